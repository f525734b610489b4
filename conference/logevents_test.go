package conference

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flashvox/flashvox/events"
)

// TestLogEventWire: room events in a user's log keep the wire form clients
// parse (docs/PROTOCOL.md): type conf_*, muted and locked as status.
func TestLogEventWire(t *testing.T) {
	at := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Type: EvJoined, Room: "team", Member: "m1", User: "bob", Play: "conf/x"},
			`{"cursor":3,"type":"conf_joined","time":"2026-12-06T18:00:00Z","play":"conf/x","user":"bob","room":"team","member":"m1"}`},
		{Event{Type: EvMuted, Room: "team", Member: "m1", By: "alice", Muted: true},
			`{"cursor":3,"type":"conf_muted","time":"2026-12-06T18:00:00Z","by":"alice","status":"muted","room":"team","member":"m1"}`},
		{Event{Type: EvLocked, Room: "team", By: "alice"},
			`{"cursor":3,"type":"conf_locked","time":"2026-12-06T18:00:00Z","by":"alice","status":"unlocked","room":"team"}`},
		{Event{Type: EvLeft, Room: "team", Member: "m1", User: "bob", Reason: ReasonKicked, By: "alice"},
			`{"cursor":3,"type":"conf_left","time":"2026-12-06T18:00:00Z","reason":"kicked","by":"alice","user":"bob","room":"team","member":"m1"}`},
	} {
		got, err := json.Marshal(events.Entry{Cursor: 3, Time: at, Event: tc.e})
		if err != nil || string(got) != tc.want {
			t.Errorf("got  %s %v\nwant %s", got, err, tc.want)
		}
	}
}
