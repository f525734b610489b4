package netns

import (
	"fmt"
	"testing"
)

// Addresses of a TwoNATs topology. The "internet" is 10.200.0.0/24, a
// bridge in the WAN namespace; each router has one address there (its
// public address) and a private LAN behind it.
const (
	ServerIP  = "10.200.0.1"  // the WAN namespace's own address (the server)
	Public1   = "10.200.0.2"  // router 1's WAN side: what LAN 1 looks like from outside
	Public2   = "10.200.0.3"  // router 2's WAN side
	Host1     = "192.168.1.2" // the host in LAN 1
	Host2     = "192.168.2.2" // the host in LAN 2
	gateway1  = "192.168.1.1"
	gateway2  = "192.168.2.1"
	wanPrefix = "/24"
)

// NATOptions choose the routers' NAT behaviour.
type NATOptions struct {
	// Symmetric maps each new destination of a LAN host to a new random
	// public port (nftables "masquerade fully-random"), as symmetric NATs
	// do; the server's view of a host's address then tells a peer nothing
	// usable, which defeats hole punching. Otherwise the routers keep the
	// source port whenever they can (Linux's default masquerade): the
	// mapping is endpoint-independent, the filtering address-and-port
	// dependent, like a port-restricted cone NAT.
	Symmetric bool
}

// TwoNATs is two hosts, each in its own LAN behind its own NAT router,
// and a WAN namespace both routers reach, which hosts the server:
//
//	LAN1 (192.168.1.2) ── Router1 [NAT] 10.200.0.2 ─┐
//	                                                  br0 10.200.0.1  WAN (server)
//	LAN2 (192.168.2.2) ── Router2 [NAT] 10.200.0.3 ─┘
//
// The routers masquerade what leaves their WAN interface and, like home
// routers, drop unsolicited packets that arrive on it, so only the
// mappings a LAN host opened itself let traffic in. The hosts' default
// routes go through their routers; nothing routes into a LAN from the WAN.
type TwoNATs struct {
	*Net
	WAN, Router1, Router2, LAN1, LAN2 string // namespace names
}

// NewTwoNATs builds the topology; it is torn down when the test ends.
func NewTwoNATs(t testing.TB, opts NATOptions) *TwoNATs {
	t.Helper()
	n := New(t)
	tn := &TwoNATs{Net: n, WAN: n.Add("wan"), Router1: n.Add("nat1"), Router2: n.Add("nat2"), LAN1: n.Add("lan1"), LAN2: n.Add("lan2")}
	n.Run(tn.WAN, "ip", "link", "add", "br0", "type", "bridge")
	n.Run(tn.WAN, "ip", "addr", "add", ServerIP+wanPrefix, "dev", "br0")
	n.Run(tn.WAN, "ip", "link", "set", "br0", "up")
	for _, r := range []struct{ router, lan, public, gw, host, lanNet string }{
		{tn.Router1, tn.LAN1, Public1, gateway1, Host1, "192.168.1.0/24"},
		{tn.Router2, tn.LAN2, Public2, gateway2, Host2, "192.168.2.0/24"},
	} {
		port := "p-" + r.public[len("10.200.0."):] // the router's port on the bridge
		n.Veth(r.router, "wan", r.public+wanPrefix, tn.WAN, port, "")
		n.Run(tn.WAN, "ip", "link", "set", port, "master", "br0")
		n.Veth(r.router, "lan", r.gw+"/24", r.lan, "eth0", r.host+"/24")
		n.Run(r.lan, "ip", "route", "add", "default", "via", r.gw)
		n.Sysctl(r.router, "net.ipv4.ip_forward", "1")
		n.Nft(r.router, natRules(r.lanNet, opts.Symmetric))
	}
	return tn
}

// natRules is a home router's ruleset: masquerade the LAN behind the WAN
// address, and drop new connections from the WAN to the router itself.
// The drop matters for hole punching, as on real routers: a peer's punch
// that arrives before our own outgoing packet would otherwise leave a
// conntrack entry that makes the masquerade pick another port for our
// packet to that peer (a clash), turning the NAT symmetric for that pair.
// Dropped in the input hook, the entry is never confirmed.
func natRules(lanNet string, symmetric bool) string {
	masq := "masquerade"
	if symmetric {
		masq = "masquerade fully-random"
	}
	return fmt.Sprintf(`table ip fvxnat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" ip saddr %s %s
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "wan" ct state new drop
	}
}
`, lanNet, masq)
}
