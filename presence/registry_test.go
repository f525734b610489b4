package presence

import (
	"sync"
	"testing"
	"time"
)

// TestTellOnlyChanges: a status is told to every other user once per
// change, never to the user itself.
func TestTellOnlyChanges(t *testing.T) {
	r := New(Options{Lock: &sync.Mutex{}})
	alice, bob := r.User("alice"), r.User("bob")
	r.Tell(alice, Online)
	r.Tell(alice, Online)
	r.Tell(alice, Busy)
	p := bob.Log.Since(0, 0)
	if len(p.Events) != 2 || p.Events[0].Event != (Event{User: "alice", Status: Online}) || p.Events[1].Event != (Event{User: "alice", Status: Busy}) {
		t.Fatalf("bob's log: %+v", p.Events)
	}
	if alice.Log.Head() != 1 {
		t.Fatal("alice was told her own presence")
	}
}

// TestHTTPDeviceExpires: the HTTP device outlives its requests by
// HTTPTimeout, then Expired gets it with the owner's lock held.
func TestHTTPDeviceExpires(t *testing.T) {
	var mu sync.Mutex
	expired := make(chan *Device, 1)
	var r *Registry
	r = New(Options{Lock: &mu, HTTPTimeout: 20 * time.Millisecond, Expired: func(d *Device) {
		if mu.TryLock() {
			t.Error("Expired without the owner's lock")
			mu.Unlock()
		}
		r.Remove(d)
		expired <- d
	}})
	mu.Lock()
	u := r.User("alice")
	d, added, end := r.HTTPBegin(u)
	d2, added2, end2 := r.HTTPBegin(u)
	mu.Unlock()
	if d != d2 || !added || added2 || d.Kind != KindHTTP {
		t.Fatalf("one HTTP device per user: %v %v %v", d == d2, added, added2)
	}
	end()
	end() // once per request
	mu.Lock()
	if !u.Has(d) {
		t.Fatal("device gone while a request is in flight")
	}
	mu.Unlock()
	mu.Lock()
	r.HTTPBegin(r.User("bob"))
	r.Attach(r.User("carol"), KindRTMP) // not an HTTP device: not counted
	if n := r.HTTPUsers(); n != 2 {
		t.Errorf("HTTP users with alice's two requests and bob's one: %d, want 2", n)
	}
	mu.Unlock()
	end2()
	select {
	case got := <-expired:
		mu.Lock()
		defer mu.Unlock()
		if got != d || u.Online() {
			t.Fatal("wrong device expired, or still online")
		}
		if n := r.HTTPUsers(); n != 1 {
			t.Errorf("HTTP users once alice's device expired: %d, want 1 (bob)", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("HTTP device did not expire")
	}
}

// TestUndelivered counts the pushing devices behind their user's log.
func TestUndelivered(t *testing.T) {
	r := New(Options{Lock: &sync.Mutex{}})
	u := r.User("alice")
	d := r.Attach(u, KindRTMP)
	r.Attach(u, KindSIP) // does not push: never counted
	if n := r.Undelivered(); n != 0 {
		t.Fatalf("before any push: %d", n)
	}
	d.Delivered(u.Log.Head())
	r.Tell(r.User("bob"), Online)
	if n := r.Undelivered(); n != 1 {
		t.Fatalf("after an event: %d, want 1", n)
	}
	d.Delivered(u.Log.Head())
	if n := r.Undelivered(); n != 0 {
		t.Fatalf("after delivery: %d", n)
	}
}
