package app

import (
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/cluster"
	"github.com/flashvox/flashvox/sipbridge"
)

// remoteRinger is what the cluster's gateway offers the SIP bridge: a
// trunk's call to an inbound number rings its user on another node.
type remoteRinger interface {
	RingRemote(from, to string, events func(call.Event)) (*cluster.RemoteCall, bool)
}

// sipRemote is the SIP bridge's RemoteRinger from the cluster's gateway
// (nil without a cluster).
func sipRemote(gw call.Gateway) sipbridge.RemoteRinger {
	r, ok := gw.(remoteRinger)
	if !ok {
		return nil
	}
	return sipRinger{r}
}

type sipRinger struct{ r remoteRinger }

// RingRemote (sipbridge.RemoteRinger).
func (s sipRinger) RingRemote(from, to string, events func(call.Event)) (sipbridge.RemoteCall, bool) {
	rc, ok := s.r.RingRemote(from, to, events)
	if !ok {
		return nil, false
	}
	return rc, true
}
