package session

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

// soPayload builds a shared object message body: name, version, flags,
// reserved, then (type, length, data) events.
func soPayload(name string, persistent bool, events ...soEvent) []byte {
	p := binary.BigEndian.AppendUint16(nil, uint16(len(name)))
	p = append(p, name...)
	p = binary.BigEndian.AppendUint32(p, 0)
	flag := uint32(0)
	if persistent {
		flag = 2
	}
	p = binary.BigEndian.AppendUint32(p, flag)
	p = binary.BigEndian.AppendUint32(p, 0)
	for _, e := range events {
		p = append(p, e.Type)
		p = binary.BigEndian.AppendUint32(p, uint32(len(e.Data)))
		p = append(p, e.Data...)
	}
	return p
}

var soCases = []struct {
	name    string
	payload []byte
	ok      bool
}{
	{"use", soPayload("chat", false, soEvent{Type: 1}), true},
	{"persistent change", soPayload("room", true, soEvent{Type: 3, Data: []byte{0, 1, 'x', 0, 0, 0, 0, 0, 0, 0, 0, 0}}), true},
	{"empty", nil, false},
	{"name too long", []byte{0xff, 0xff, 'a'}, false},
	{"event overruns", append(soPayload("x", false), 1, 0x7f, 0xff, 0xff, 0xff), false},
	{"truncated event", append(soPayload("x", false), 1, 0), false},
}

func TestParseSharedObject(t *testing.T) {
	for _, c := range soCases {
		so, err := parseSharedObject(&message.Message{Type: message.TypeSharedObjectAMF0, Payload: c.payload})
		if (err == nil) != c.ok {
			t.Fatalf("%s: err %v", c.name, err)
		}
		if c.ok && so.Name == "" {
			t.Fatalf("%s: no name", c.name)
		}
	}
	so, _ := parseSharedObject(&message.Message{Type: message.TypeSharedObjectAMF3, Payload: append([]byte{0}, soCases[1].payload...)})
	if so == nil || so.Name != "room" || !so.Persistent || len(so.Events) != 1 || so.Events[0].Type != 3 {
		t.Fatalf("AMF3 shared object: %+v", so)
	}
}

// TestSharedObjectRefusedConnectionStays: a shared object message, even a
// malformed one, gets an error status and the session goes on.
func TestSharedObjectRefusedConnectionStays(t *testing.T) {
	h := startSession(t, media.NewHub(16, nil))
	h.connect()
	for _, c := range soCases {
		h.send(&message.Message{Type: message.TypeSharedObjectAMF0, Payload: c.payload})
		h.expect("refusal of "+c.name, isStatus("SharedObject.NotSupported"))
	}
	if id := h.createStream(5); id == 0 {
		t.Fatal("session must go on after a refused shared object")
	}
}

func FuzzParseSharedObject(f *testing.F) {
	for _, c := range soCases {
		f.Add(c.payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		so, err := parseSharedObject(&message.Message{Type: message.TypeSharedObjectAMF0, Payload: b})
		if err != nil {
			return
		}
		again := soPayload(so.Name, so.Persistent, so.Events...)
		so2, err := parseSharedObject(&message.Message{Type: message.TypeSharedObjectAMF0, Payload: again})
		if err != nil || so2.Name != so.Name || len(so2.Events) != len(so.Events) {
			t.Fatalf("round trip: %v %+v %+v", err, so, so2)
		}
	})
}

// TestWriteSharedObjectCorpus writes the seed corpus (go test -run
// TestWriteSharedObjectCorpus -args -write) — kept so the files match the table.
func TestWriteSharedObjectCorpus(t *testing.T) {
	if os.Getenv("FLASHVOX_WRITE_CORPUS") == "" {
		return
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseSharedObject")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range soCases {
		body := "go test fuzz v1\n[]byte(" + quoteBytes(c.payload) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "seed"+string(rune('0'+i))), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quoteBytes(b []byte) string {
	s := "\""
	for _, c := range b {
		s += "\\x" + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])
	}
	return s + "\""
}
