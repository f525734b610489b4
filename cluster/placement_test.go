package cluster

import (
	"fmt"
	"testing"
)

// TestPlacement: where a node above its mark sends page loads and RTMFP
// handshakes, including hostile request URIs that try to leave the
// announced node's host.
func TestPlacement(t *testing.T) {
	mk := func(conns int, others ...*NodeInfo) *Cluster {
		c := &Cluster{o: Options{Node: "a", RedirectAbove: 10, Load: func() Load { return Load{Connections: conns} }},
			nodes: nodeTable{nodes: map[string]*NodeInfo{"a": {Node: "a", Self: true, HTTP: "http://10.0.0.1:8080", RTMFP: "10.0.0.1:1935"}}}}
		for _, n := range others {
			c.nodes.nodes[n.Node] = n
		}
		return c
	}
	b := &NodeInfo{Node: "b", HTTP: "http://10.0.0.2:8080/", RTMFP: "10.0.0.2:1935", Load: Load{Connections: 3}}
	c := &NodeInfo{Node: "c", HTTP: "https://10.0.0.3", RTMFP: "10.0.0.3:1935", Load: Load{Connections: 1}}
	full := &NodeInfo{Node: "d", HTTP: "http://10.0.0.4", RTMFP: "10.0.0.4:1935", Load: Load{Connections: 10}}
	bad := &NodeInfo{Node: "e", RTMFP: "not-an-address", Load: Load{Connections: 0}}
	for _, tc := range []struct {
		name      string
		c         *Cluster
		uri       string
		page, udp string
	}{
		{"under its mark", mk(10, b, c), "/", "", "[]"},
		{"above: the least loaded", mk(11, b, c), "/?user=bob", "https://10.0.0.3/?user=bob", "[10.0.0.3:1935]"},
		{"above: b only", mk(11, b), "/index.html", "http://10.0.0.2:8080/index.html", "[10.0.0.2:1935]"},
		{"every other node full", mk(50, full), "/", "", "[]"},
		{"alone", mk(50), "/", "", "[]"},
		{"a scheme-relative path stays on b", mk(11, b), "//evil.example/x", "http://10.0.0.2:8080/evil.example/x", "[10.0.0.2:1935]"},
		{"a member's bad RTMFP address is skipped", mk(11, bad), "/", "", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.PageRedirect(tc.uri); got != tc.page {
				t.Errorf("page: got %q, want %q", got, tc.page)
			}
			if got := fmt.Sprint(tc.c.RTMFPRedirect()); got != tc.udp {
				t.Errorf("rtmfp: got %s, want %s", got, tc.udp)
			}
		})
	}
}
