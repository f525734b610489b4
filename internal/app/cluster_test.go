package app

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestClusterPagesCount: the heartbeat's page users are the users signed
// in over the HTTP API, one each however many requests they have in
// flight, and no RTMP phone (those are connections); an expired HTTP
// device stops counting.
func TestClusterPagesCount(t *testing.T) {
	calls := call.NewService(call.Options{HTTPPresenceTimeout: 50 * time.Millisecond}, "alice", "bob", "carol")
	t.Cleanup(calls.Close)
	p := &clusterPeers{calls: calls}
	if n := p.pages(); n != 0 {
		t.Fatalf("no one signed in: %d", n)
	}
	_, done1 := calls.HTTPBegin("alice")
	_, done2 := calls.HTTPBegin("alice") // a second tab's long-poll
	_, done3 := calls.HTTPBegin("bob")
	calls.Attach("carol", "rtmp")
	if n := p.pages(); n != 2 {
		t.Fatalf("alice (two requests) and bob over HTTP, carol over RTMP: %d page users, want 2", n)
	}
	done1()
	done2()
	if n := p.pages(); n != 2 {
		t.Fatalf("alice between requests still counts: %d, want 2", n)
	}
	testwait.For(t, 5*time.Second, "alice's HTTP device to expire and bob alone to count", func() bool { return p.pages() == 1 })
	done3()
}
