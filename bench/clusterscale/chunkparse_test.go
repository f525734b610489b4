package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/message"
)

type parsed struct {
	typ       uint8
	ts, sid   uint32
	payload   []byte
	chunkSize uint32
}

func body(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// encode writes ms with rtmp/chunk's Writer, applying each Set Chunk Size
// it carries to the writer after it, as an rtmp.Conn does.
func encode(t *testing.T, ms []*message.Message) []byte {
	t.Helper()
	var out bytes.Buffer
	w := chunk.NewWriter(&out)
	for _, m := range ms {
		if err := w.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
		// The refusal cases send sizes the writer rightly refuses: it
		// then keeps its size, and the parser must fail first.
		if m.Type == message.TypeSetChunkSize && len(m.Payload) == 4 {
			_ = w.SetChunkSize(binary.BigEndian.Uint32(m.Payload))
		}
	}
	return out.Bytes()
}

// parseParts feeds stream cut at the given offsets.
func parseParts(stream []byte, cuts []int) ([]parsed, *chunkParser, error) {
	p := newChunkParser()
	var got []parsed
	on := func(typ uint8, ts, sid uint32, payload []byte) error {
		got = append(got, parsed{typ, ts, sid, bytes.Clone(payload), p.chunkSize})
		return nil
	}
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		if err := p.feed(stream[prev:c], on); err != nil {
			return got, p, err
		}
		prev = c
	}
	if len(p.pending) != 0 {
		return got, p, fmt.Errorf("%d bytes left unparsed", len(p.pending))
	}
	return got, p, nil
}

func TestChunkParser(t *testing.T) {
	audio := func(csid, ts uint32, n int, seed byte) *message.Message {
		return &message.Message{Type: message.TypeAudio, Timestamp: ts, StreamID: 1, ChunkStreamID: csid, Payload: body(n, seed)}
	}
	// Extended timestamp, type 3 chunks that omit it (the writer here
	// repeats it): type 0, ts 0x1000000, 200 bytes at chunk size 128.
	omitted := []byte{0x04, 0xff, 0xff, 0xff, 0, 0, 200, message.TypeAudio, 1, 0, 0, 0, 0x01, 0, 0, 0}
	omitted = append(omitted, body(128, 1)...)
	omitted = append(omitted, 0xc4)
	omitted = append(omitted, body(200, 1)[128:]...)

	cases := []struct {
		name   string
		stream []byte
		want   []*message.Message
		fmts   bool // every header type must have been seen
	}{
		{
			name: "header types 0 to 3",
			want: []*message.Message{
				audio(4, 1000, 65, 1),  // type 0
				audio(4, 1016, 65, 2),  // type 2: same length and type, new delta
				audio(4, 1032, 65, 3),  // type 3: same delta
				audio(4, 1048, 70, 4),  // type 1: new length
				audio(4, 1064, 300, 5), // type 1, then type 3 continuations at 128
				{Type: message.TypeCommandAMF0, StreamID: 0, ChunkStreamID: 3, Payload: body(20, 6)},
			},
			fmts: true,
		},
		{
			name: "chunk stream ids in two- and three-byte forms",
			want: []*message.Message{audio(64, 5, 10, 1), audio(319, 6, 10, 2), audio(320, 7, 10, 3), audio(65599, 8, 300, 4)},
		},
		{
			name: "extended timestamps, repeated in type 3 chunks",
			want: []*message.Message{
				audio(4, 0x1000000, 300, 1),
				audio(4, 0x1000010, 300, 2),
				audio(4, 0x1000020, 300, 3),
				audio(5, 0xffffff, 10, 4), // exactly the marker: extended
				audio(5, 0x1ffffff, 200, 5),
			},
		},
		{
			name: "chunk size changes",
			want: []*message.Message{
				audio(4, 1, 300, 1),
				message.SetChunkSizeMessage(4096),
				audio(4, 2, 5000, 2),
				message.SetChunkSizeMessage(7),
				audio(4, 3, 65, 3),
				audio(6, 4, 23, 4),
				message.SetChunkSizeMessage(1),
				audio(4, 5, 5, 5),
			},
		},
		{
			name:   "extended timestamp omitted in type 3 chunks",
			stream: omitted,
			want:   []*message.Message{audio(4, 0x1000000, 200, 1)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := tc.stream
			if stream == nil {
				stream = encode(t, tc.want)
			}
			check := func(how string, got []parsed, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("%s: %d messages, want %d", how, len(got), len(tc.want))
				}
				for i, w := range tc.want {
					g := got[i]
					if g.typ != w.Type || g.ts != w.Timestamp || g.sid != w.StreamID || !bytes.Equal(g.payload, w.Payload) {
						t.Fatalf("%s: message %d: type %d ts %#x sid %d %d bytes, want type %d ts %#x sid %d %d bytes",
							how, i, g.typ, g.ts, g.sid, len(g.payload), w.Type, w.Timestamp, w.StreamID, len(w.Payload))
					}
					if w.Type == message.TypeSetChunkSize && g.chunkSize != binary.BigEndian.Uint32(w.Payload) {
						t.Fatalf("%s: chunk size %d after message %d, want %d", how, g.chunkSize, i, binary.BigEndian.Uint32(w.Payload))
					}
				}
			}
			got, p, err := parseParts(stream, nil)
			check("whole", got, err)
			if tc.fmts {
				for f, n := range p.fmts {
					if n == 0 {
						t.Fatalf("no chunk of header type %d in the stream (%v): the case misses its point", f, p.fmts)
					}
				}
			}
			for cut := 1; cut < len(stream); cut++ {
				got, _, err := parseParts(stream, []int{cut})
				check(fmt.Sprintf("split at %d", cut), got, err)
			}
			var every []int
			for i := 1; i < len(stream); i++ {
				every = append(every, i)
			}
			got, _, err = parseParts(stream, every)
			check("a byte per feed", got, err)
		})
	}
}

// TestChunkParserRefuses is what a hostile or broken server gets: an error,
// not unbounded memory.
func TestChunkParserRefuses(t *testing.T) {
	big := []byte{0x04, 0, 0, 0, 0x10, 0, 1, message.TypeAudio, 1, 0, 0, 0} // declares 1 MiB + 1
	cases := map[string][]byte{
		"type 1 first on a chunk stream": {0x44, 0, 0, 0, 0, 0, 1, message.TypeAudio, 0},
		"a message over the bound":       big,
		"chunk size 0":                   encode(t, []*message.Message{{Type: message.TypeSetChunkSize, Payload: []byte{0, 0, 0, 0}}}),
		"chunk size over the bound":      encode(t, []*message.Message{message.SetChunkSizeMessage(parseMaxChunk + 1)}),
		"a short control message":        encode(t, []*message.Message{{Type: message.TypeSetChunkSize, Payload: []byte{0, 1}}}),
	}
	var many []*message.Message
	for i := range parseMaxStreams + 1 {
		many = append(many, &message.Message{Type: message.TypeAudio, ChunkStreamID: uint32(4 + i), Payload: []byte{1}})
	}
	cases["too many chunk streams"] = encode(t, many)
	for name, stream := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := parseParts(stream, nil)
			if !errors.Is(err, errParse) {
				t.Fatalf("err %v, want %v", err, errParse)
			}
		})
	}
}
