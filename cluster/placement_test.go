package cluster

import (
	"fmt"
	"testing"
	"time"
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

// TestPlacementCountsPages: the page's users (HTTP API users and WebRTC
// sessions, Load.Pages) count with the connections, on this node (is it
// full?) and on the others (which is least loaded, which is full).
func TestPlacementCountsPages(t *testing.T) {
	mk := func(self Load, others ...*NodeInfo) *Cluster {
		c := &Cluster{o: Options{Node: "a", RedirectAbove: 10, Load: func() Load { return self }},
			nodes: nodeTable{nodes: map[string]*NodeInfo{"a": {Node: "a", Self: true, HTTP: "http://10.0.0.1"}}}}
		for _, n := range others {
			c.nodes.nodes[n.Node] = n
		}
		return c
	}
	if got := (Load{Connections: 4, Pages: 7, Streams: 9, Calls: 9, Users: 9}).Clients(); got != 11 {
		t.Fatalf("Clients of 4 connections and 7 page users: %d, want 11", got)
	}
	// b has fewer connections but more page users than c: c is less loaded.
	b := &NodeInfo{Node: "b", HTTP: "http://10.0.0.2", RTMP: "rtmp://10.0.0.2", Load: Load{Connections: 1, Pages: 5}}
	c := &NodeInfo{Node: "c", HTTP: "http://10.0.0.3", RTMP: "rtmp://10.0.0.3", Load: Load{Connections: 3, Pages: 1}}
	pagesFull := &NodeInfo{Node: "d", HTTP: "http://10.0.0.4", RTMP: "rtmp://10.0.0.4", Load: Load{Pages: 10}}
	for _, tc := range []struct {
		name       string
		c          *Cluster
		page, rtmp string
	}{
		{"pages alone under the mark", mk(Load{Pages: 10}, b, c), "", ""},
		{"pages alone above the mark", mk(Load{Pages: 11}, b, c), "http://10.0.0.3/", "rtmp://10.0.0.3/phone"},
		{"connections and pages above the mark", mk(Load{Connections: 6, Pages: 5}, b), "http://10.0.0.2/", "rtmp://10.0.0.2/phone"},
		{"a node full of page users takes none", mk(Load{Connections: 20}, pagesFull), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.PageRedirect("/"); got != tc.page {
				t.Errorf("page: got %q, want %q", got, tc.page)
			}
			if got := tc.c.Redirect("phone"); got != tc.rtmp {
				t.Errorf("rtmp: got %q, want %q", got, tc.rtmp)
			}
		})
	}
}

// TestPageURLs: the pages a page signed in here may move to: every other
// live node's http(s) page URL, the least loaded first; never this node,
// a node without one, or a URL that is not http(s).
func TestPageURLs(t *testing.T) {
	c := &Cluster{o: Options{Node: "a", Load: func() Load { return Load{} }}, nodes: nodeTable{nodes: map[string]*NodeInfo{
		"a": {Node: "a", Self: true, HTTP: "http://10.0.0.1"},
		"b": {Node: "b", HTTP: "https://10.0.0.2:8443", Load: Load{Connections: 2, Pages: 3}},
		"c": {Node: "c", HTTP: "http://10.0.0.3:8080", Load: Load{Pages: 1}},
		"d": {Node: "d", RTMP: "rtmp://10.0.0.4"},
		"e": {Node: "e", HTTP: "javascript:alert(1)"},
		"f": {Node: "f", HTTP: "data:text/html,x"},
		"g": {Node: "g", HTTP: "http:///nohost"},
	}}}
	got := fmt.Sprint(c.PageURLs())
	if want := "[http://10.0.0.3:8080 https://10.0.0.2:8443]"; got != want {
		t.Fatalf("PageURLs: %s, want %s", got, want)
	}
}

// TestKnownPages: a node's page stays known after the node is lost, for
// knownPagesFor after its last heartbeat; this node's own page is never
// listed, and a member announcing a new page every heartbeat grows the
// list to maxKnownPages only.
func TestKnownPages(t *testing.T) {
	var tab nodeTable
	tab.nodes = map[string]*NodeInfo{}
	t0 := time.Unix(1_800_000_000, 0)
	tab.seen(heartbeat{Node: "a", Started: t0, HTTP: "http://10.0.0.1"}, true, t0)
	tab.seen(heartbeat{Node: "b", Started: t0, HTTP: "http://10.0.0.2:8080"}, false, t0)
	tab.seen(heartbeat{Node: "c", Started: t0, HTTP: "https://10.0.0.3"}, false, t0.Add(time.Minute))
	tab.seen(heartbeat{Node: "d", Started: t0}, false, t0.Add(time.Minute))
	if got := fmt.Sprint(tab.knownPages(t0.Add(time.Minute))); got != "[http://10.0.0.2:8080 https://10.0.0.3]" {
		t.Fatalf("known pages: %s", got)
	}
	if got := tab.expire(t0.Add(30 * time.Second)); fmt.Sprint(got) != "[b]" {
		t.Fatalf("expired %v, want b", got)
	}
	if got := fmt.Sprint(tab.knownPages(t0.Add(knownPagesFor))); got != "[http://10.0.0.2:8080 https://10.0.0.3]" {
		t.Fatalf("known pages after b's loss: %s", got)
	}
	if got := fmt.Sprint(tab.knownPages(t0.Add(knownPagesFor + 30*time.Second))); got != "[https://10.0.0.3]" {
		t.Fatalf("known pages %v after b's last heartbeat: %s", knownPagesFor+30*time.Second, got)
	}
	for i := range 2 * maxKnownPages {
		tab.seen(heartbeat{Node: "e", Started: t0, HTTP: fmt.Sprintf("http://10.1.0.%d", i)}, false, t0.Add(2*time.Minute))
	}
	if n := len(tab.pages); n != maxKnownPages {
		t.Fatalf("%d pages kept, want at most %d", n, maxKnownPages)
	}
}
