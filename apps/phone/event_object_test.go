package phone_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/presence"
)

// TestEventObjectWire: the pushed AMF object of each publisher's event has
// type, cursor, time (ms), then the non-empty fields in wire order
// (docs/PROTOCOL.md), whatever package wrote it.
func TestEventObjectWire(t *testing.T) {
	at := time.UnixMilli(1796580000123)
	for _, tc := range []struct {
		ev   events.Event
		want string
	}{
		{call.Event{Type: call.EvAccepted, Call: "c", From: "alice", To: "bob", Publish: "p", Play: "q", Mode: call.ModeRelay, Device: "d"},
			"type=accepted cursor=9 time=1796580000123 call=c from=alice to=bob publish=p play=q mode=relay device=d"},
		{call.Event{Type: call.EvDTMF, Call: "c", By: "bob", Digits: "5"},
			"type=dtmf cursor=9 time=1796580000123 call=c by=bob digits=5"},
		{presence.Event{User: "carol", Status: presence.Busy},
			"type=presence cursor=9 time=1796580000123 user=carol status=busy"},
		{conference.Event{Type: conference.EvMuted, Room: "r", Member: "m", By: "alice", Muted: true},
			"type=conf_muted cursor=9 time=1796580000123 by=alice status=muted room=r member=m"},
	} {
		o := phone.EventObject(events.Entry{Cursor: 9, Time: at, Event: tc.ev})
		var got []string
		for _, p := range o.Props {
			v := fmt.Sprint(p.Value)
			if f, ok := p.Value.(float64); ok {
				v = strconv.FormatFloat(f, 'f', -1, 64)
			}
			got = append(got, p.Key+"="+v)
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("got  %s\nwant %s", s, tc.want)
		}
	}
}
