package events

import (
	"encoding/json"
	"testing"
	"time"
)

// pair is a test event with two fields, the second of them maybe empty.
type pair struct{ a, b string }

func (pair) EventType() string { return "pair<&>" }

func (p pair) WireFields(f []Field) []Field { return append(f, Field{"a", p.a}, Field{"b", p.b}) }

// TestEntryJSON: the wire form is cursor, type, time, then the non-empty
// fields in order, escaped as encoding/json escapes strings.
func TestEntryJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 18, 0, 0, 5e6, time.UTC)
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Cursor: 7, Time: at, Event: pair{"x", ""}}, `{"cursor":7,"type":"pair\u003c\u0026\u003e","time":"2026-12-06T18:00:00.005Z","a":"x"}`},
		{Entry{Cursor: 1, Event: pair{"", "<b>\"q\""}}, `{"cursor":1,"type":"pair\u003c\u0026\u003e","time":"0001-01-01T00:00:00Z","b":"\u003cb\u003e\"q\""}`},
		{Entry{Cursor: 18446744073709551615}, `{"cursor":18446744073709551615,"type":"","time":"0001-01-01T00:00:00Z"}`},
	} {
		b, err := json.Marshal(tc.e)
		if err != nil || string(b) != tc.want {
			t.Errorf("got %s %v, want %s", b, err, tc.want)
		}
	}
}
