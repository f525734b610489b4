package call

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/presence"
)

// wireEvent is the HTTP API's event as docs/PROTOCOL.md shows it: the
// layout every client parses, kept here to hold the encoding to it.
type wireEvent struct {
	Cursor  uint64    `json:"cursor"`
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Call    string    `json:"call,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by,omitempty"`
	Publish string    `json:"publish,omitempty"`
	Play    string    `json:"play,omitempty"`
	Mode    string    `json:"mode,omitempty"`
	PeerID  string    `json:"peerId,omitempty"`
	Device  string    `json:"device,omitempty"`
	User    string    `json:"user,omitempty"`
	Status  string    `json:"status,omitempty"`
	Digits  string    `json:"digits,omitempty"`
}

// TestEventWire: a call event in the log encodes byte for byte as the
// documented layout does.
func TestEventWire(t *testing.T) {
	at := time.Date(2026, 12, 6, 18, 30, 1, 250e6, time.UTC)
	for _, e := range []Event{
		{Type: EvAccepted, Call: "c1", From: "alice", To: "bob", Publish: "p<1>", Play: "p&2", Mode: ModeP2P, PeerID: "ab", Device: "d"},
		{Type: EvBye, Call: "c1", From: "alice", To: "bob", Reason: ReasonHangup, By: "bob", Mode: ModeRelay},
		{Type: EvDTMF, Call: "c1", By: "alice", Digits: "12#"},
	} {
		got, err := json.Marshal(events.Entry{Cursor: 42, Time: at, Event: e})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(wireEvent{Cursor: 42, Type: e.Type, Time: at, Call: e.Call, From: e.From, To: e.To,
			Reason: e.Reason, By: e.By, Publish: e.Publish, Play: e.Play, Mode: e.Mode, PeerID: e.PeerID,
			Device: e.Device, Digits: e.Digits})
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	got, _ := json.Marshal(events.Entry{Cursor: 42, Time: at, Event: presence.Event{User: "carol", Status: Busy}})
	want, _ := json.Marshal(wireEvent{Cursor: 42, Type: EvPresence, Time: at, User: "carol", Status: Busy})
	if string(got) != string(want) {
		t.Errorf("presence: got  %s\nwant %s", got, want)
	}
}
