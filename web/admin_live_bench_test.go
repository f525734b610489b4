package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/media"
)

// BenchmarkLiveRefresh is the cost of one look for changes (Live.Check,
// every 250 ms) with 250 answered calls (500 users, 500 published
// streams).
func BenchmarkLiveRefresh(b *testing.B) {
	calls := call.NewService(call.Options{RingTimeout: time.Minute})
	defer calls.Close()
	hub := media.NewHub(4, nil)
	for i := range 250 {
		a, c := calls.Attach(fmt.Sprintf("a%d", i), call.KindRTMP), calls.Attach(fmt.Sprintf("b%d", i), call.KindRTMP)
		id, err := calls.Invite(a, c.User, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := calls.Accept(c, id, ""); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range calls.Calls() {
		for _, k := range c.Streams {
			p, err := hub.Publish(k)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
		}
	}
	l := &Live{Calls: calls, Streams: hub}
	b.ReportAllocs()
	for b.Loop() {
		l.refresh()
	}
}
