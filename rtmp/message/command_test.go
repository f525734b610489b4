package message

import (
	"bytes"
	"testing"

	"github.com/flashvox/flashvox/amf"
)

// commandSeeds drive FuzzParseCommand (and its committed corpus).
var commandSeeds = []*Command{
	{Name: "connect", TxID: 1, Object: amf.NewObject("app", "live", "tcUrl", "rtmp://h/live", "objectEncoding", 0.0)},
	{Name: "createStream", TxID: 2},
	{Name: "publish", TxID: 0, Args: []any{"s", "live"}},
	{Name: "play", TxID: 0, Args: []any{"s", -2.0}, AMF3: true},
	{Name: "onStatus", Args: []any{amf.NewObject("level", "status", "code", "NetStream.Play.Start")}},
}

// FuzzParseCommand: a command that parses re-encodes to one that parses the same.
func FuzzParseCommand(f *testing.F) {
	for _, c := range commandSeeds {
		m, err := c.MarshalMessage(0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Type == TypeCommandAMF3, m.Payload)
	}
	f.Fuzz(func(t *testing.T, amf3 bool, p []byte) {
		typ := TypeCommandAMF0
		if amf3 {
			typ = TypeCommandAMF3
		}
		cmd, err := ParseCommand(&Message{Type: typ, Payload: p})
		if err != nil {
			return
		}
		m, err := cmd.MarshalMessage(0)
		if err != nil {
			return // values decoded that do not re-encode (e.g. AMF3-only) are not our concern here
		}
		again, err := ParseCommand(m)
		if err != nil || again.Name != cmd.Name || !(again.TxID == cmd.TxID || again.TxID != again.TxID) {
			t.Fatalf("round trip: %+v -> %+v (%v)", cmd, again, err)
		}
	})
}

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range commandSeeds {
		m, err := c.MarshalMessage(3)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCommand(m)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != c.Name || got.TxID != c.TxID || got.AMF3 != c.AMF3 || len(got.Args) != len(c.Args) {
			t.Fatalf("got %+v want %+v", got, c)
		}
		if c.AMF3 && m.Payload[0] != 0 {
			t.Fatal("AMF3 command without the 0x00 format byte")
		}
	}
	if _, err := ParseCommand(&Message{Type: TypeAudio}); err == nil {
		t.Fatal("audio parsed as command")
	}
	if _, err := ParseCommand(&Message{Type: TypeCommandAMF0, Payload: []byte{0x00, 0, 0, 0, 0, 0, 0, 0, 0}}); err == nil {
		t.Fatal("number as command name accepted")
	}
}

func TestSplitAggregate(t *testing.T) {
	agg := &Message{Type: TypeAggregate, Timestamp: 1000, StreamID: 1, Payload: AppendAggregate(nil,
		&Message{Type: TypeAudio, Timestamp: 50, Payload: []byte{1, 2}},
		&Message{Type: TypeVideo, Timestamp: 70, Payload: []byte{3}},
	)}
	var got []*Message
	if err := SplitAggregate(agg, func(m *Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Timestamp != 1000 || got[1].Timestamp != 1020 || got[1].Type != TypeVideo || !bytes.Equal(got[0].Payload, []byte{1, 2}) {
		t.Fatalf("got %+v", got)
	}
	bad := &Message{Type: TypeAggregate, Payload: agg.Payload[:20]}
	if err := SplitAggregate(bad, func(*Message) error { return nil }); err == nil {
		t.Fatal("truncated aggregate accepted")
	}
}
