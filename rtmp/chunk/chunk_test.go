package chunk

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

// chunkCase is a sequence of messages written with one chunk size; the same
// table seeds FuzzChunkReader.
type chunkCase struct {
	name      string
	chunkSize uint32
	msgs      []message.Message
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

var chunkCases = []chunkCase{
	{"audio type 0 then 3", 128, []message.Message{
		{Type: message.TypeAudio, Timestamp: 0, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 1)},
		{Type: message.TypeAudio, Timestamp: 16, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 2)},
		{Type: message.TypeAudio, Timestamp: 32, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 3)},
		{Type: message.TypeAudio, Timestamp: 48, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 4)},
	}},
	{"type 1 length change and type 2", 128, []message.Message{
		{Type: message.TypeVideo, Timestamp: 100, StreamID: 1, ChunkStreamID: 6, Payload: payload(300, 1)},
		{Type: message.TypeVideo, Timestamp: 133, StreamID: 1, ChunkStreamID: 6, Payload: payload(10, 2)},
		{Type: message.TypeVideo, Timestamp: 166, StreamID: 1, ChunkStreamID: 6, Payload: payload(10, 3)},
		{Type: message.TypeVideo, Timestamp: 200, StreamID: 1, ChunkStreamID: 6, Payload: payload(10, 4)},
	}},
	{"empty payload and backwards timestamp", 128, []message.Message{
		{Type: message.TypeDataAMF0, Timestamp: 500, StreamID: 1, ChunkStreamID: 5, Payload: nil},
		{Type: message.TypeDataAMF0, Timestamp: 100, StreamID: 1, ChunkStreamID: 5, Payload: payload(3, 0)},
	}},
	{"extended timestamp on continuation chunks", 64, []message.Message{
		{Type: message.TypeAudio, Timestamp: 0x1000000, StreamID: 1, ChunkStreamID: 4, Payload: payload(200, 1)},
		{Type: message.TypeAudio, Timestamp: 0x1000010, StreamID: 1, ChunkStreamID: 4, Payload: payload(200, 2)},
		{Type: message.TypeAudio, Timestamp: 0x1000020, StreamID: 1, ChunkStreamID: 4, Payload: payload(200, 3)},
	}},
	{"timestamps past 2^24 via deltas", 128, []message.Message{
		{Type: message.TypeAudio, Timestamp: 0xFFFFF0, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 1)},
		{Type: message.TypeAudio, Timestamp: 0x1000000, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 2)},
		{Type: message.TypeAudio, Timestamp: 0x1000010, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 3)},
	}},
	{"uint32 wrap", 128, []message.Message{
		{Type: message.TypeAudio, Timestamp: 0xFFFFFFE0, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 1)},
		{Type: message.TypeAudio, Timestamp: 0xFFFFFFF0, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 2)},
		{Type: message.TypeAudio, Timestamp: 0x00000000, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 3)},
		{Type: message.TypeAudio, Timestamp: 0x00000010, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 4)},
	}},
	{"huge delta uses extended field in type 2", 128, []message.Message{
		{Type: message.TypeAudio, Timestamp: 1, StreamID: 1, ChunkStreamID: 4, Payload: payload(5, 1)},
		{Type: message.TypeAudio, Timestamp: 0x20000001, StreamID: 1, ChunkStreamID: 4, Payload: payload(5, 2)},
		{Type: message.TypeAudio, Timestamp: 0x40000001, StreamID: 1, ChunkStreamID: 4, Payload: payload(5, 3)},
	}},
	{"2-byte and 3-byte chunk stream ids", 128, []message.Message{
		{Type: message.TypeAudio, Timestamp: 1, StreamID: 1, ChunkStreamID: 64, Payload: payload(200, 1)},
		{Type: message.TypeAudio, Timestamp: 2, StreamID: 1, ChunkStreamID: 319, Payload: payload(200, 2)},
		{Type: message.TypeAudio, Timestamp: 3, StreamID: 1, ChunkStreamID: 320, Payload: payload(200, 3)},
		{Type: message.TypeAudio, Timestamp: 4, StreamID: 1, ChunkStreamID: 65599, Payload: payload(200, 4)},
		{Type: message.TypeAudio, Timestamp: 5, StreamID: 1, ChunkStreamID: 65599, Payload: payload(200, 5)},
	}},
	{"interleaved streams", 32, []message.Message{
		{Type: message.TypeAudio, Timestamp: 1, StreamID: 1, ChunkStreamID: 4, Payload: payload(40, 1)},
		{Type: message.TypeVideo, Timestamp: 1, StreamID: 1, ChunkStreamID: 6, Payload: payload(40, 2)},
		{Type: message.TypeAudio, Timestamp: 2, StreamID: 2, ChunkStreamID: 4, Payload: payload(40, 3)},
	}},
	{"chunk size 1", 1, []message.Message{
		{Type: message.TypeCommandAMF0, Timestamp: 0, StreamID: 0, ChunkStreamID: 3, Payload: payload(20, 1)},
	}},
	{"large chunk size", 1 << 24, []message.Message{
		{Type: message.TypeVideo, Timestamp: 0, StreamID: 1, ChunkStreamID: 6, Payload: payload(100000, 1)},
	}},
}

// encodeCase writes a case's messages, announcing the chunk size first.
func encodeCase(t testing.TB, c chunkCase) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if c.chunkSize != DefaultSize {
		if err := w.WriteMessage(message.SetChunkSizeMessage(c.chunkSize)); err != nil {
			t.Fatal(err)
		}
		if err := w.SetChunkSize(c.chunkSize); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.msgs {
		if err := w.WriteMessage(&c.msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(b []byte, maxMessage int) ([]message.Message, error) {
	r := NewReader(bytes.NewReader(b), maxMessage, 64)
	var out []message.Message
	for {
		var m message.Message
		if err := r.ReadMessage(&m); err != nil {
			return out, err
		}
		if m.Type == message.TypeSetChunkSize {
			continue
		}
		out = append(out, m)
	}
}

func normalize(ms []message.Message) []message.Message {
	out := make([]message.Message, len(ms))
	for i, m := range ms {
		if len(m.Payload) == 0 {
			m.Payload = nil
		}
		out[i] = m
	}
	return out
}

func TestChunkRoundTrip(t *testing.T) {
	for _, c := range chunkCases {
		t.Run(c.name, func(t *testing.T) {
			b := encodeCase(t, c)
			got, err := readAll(b, 1<<24-1)
			if err == nil || !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("want EOF at end, got %v", err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(c.msgs)) {
				t.Fatalf("round trip mismatch:\n got %+v\nwant %+v", got, c.msgs)
			}
		})
	}
}

func TestChunkWriterHeaderTypes(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	m := message.Message{Type: message.TypeAudio, StreamID: 1, ChunkStreamID: 4, Payload: payload(65, 0)}
	want := []byte{0 << 6, 2 << 6, 3 << 6, 1 << 6, 0 << 6}
	steps := []func(){
		func() { m.Timestamp = 10 },                            // first: type 0
		func() { m.Timestamp = 30 },                            // after a type 0: type 2
		func() { m.Timestamp = 50 },                            // same delta: type 3
		func() { m.Timestamp = 70; m.Payload = payload(9, 0) }, // length change: type 1
		func() { m.StreamID = 2 },                              // other stream: type 0
	}
	for i, step := range steps {
		step()
		buf.Reset()
		if err := w.WriteMessage(&m); err != nil {
			t.Fatal(err)
		}
		if got := buf.Bytes()[0] & 0xc0; got != want[i] {
			t.Errorf("step %d: header type %d, want %d", i, got>>6, want[i]>>6)
		}
	}
}

// TestChunkReaderExtendedStyles feeds type 3 continuation chunks with and
// without the repeated extended timestamp.
func TestChunkReaderExtendedStyles(t *testing.T) {
	body := payload(200, 7)
	hdr0 := []byte{0x04, 0xff, 0xff, 0xff, 0, 0, 200, message.TypeAudio, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00}
	for _, repeat := range []bool{true, false} {
		var b []byte
		b = append(b, hdr0...)
		b = append(b, body[:128]...)
		b = append(b, 0xc4)
		if repeat {
			b = append(b, 0x01, 0x00, 0x00, 0x00)
		}
		b = append(b, body[128:]...)
		got, err := readAll(b, 1<<20)
		if len(got) != 1 || !bytes.Equal(got[0].Payload, body) || got[0].Timestamp != 0x1000000 {
			t.Fatalf("repeat=%v: got %+v err %v", repeat, got, err)
		}
	}
}

func TestChunkReaderAbortAndChunkSize(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	// a partial message on csid 4 (first chunk of 200 bytes), then Abort.
	full := encodeCase(t, chunkCase{chunkSize: 128, msgs: []message.Message{{Type: message.TypeAudio, StreamID: 1, ChunkStreamID: 4, Payload: payload(200, 1)}}})
	buf.Write(full[:12+128])
	w.WriteMessage(message.AbortMessage(4))
	w.WriteMessage(message.SetChunkSizeMessage(4096))
	w.SetChunkSize(4096)
	w.low[4] = chunkStreamOut{}
	w.WriteMessage(&message.Message{Type: message.TypeAudio, Timestamp: 5, StreamID: 1, ChunkStreamID: 4, Payload: payload(300, 2)})
	got, _ := readAll(buf.Bytes(), 1<<20)
	var media []message.Message
	for _, m := range got {
		if m.Type == message.TypeAudio {
			media = append(media, m)
		}
	}
	if len(media) != 1 || !bytes.Equal(media[0].Payload, payload(300, 2)) {
		t.Fatalf("after abort got %+v", media)
	}
}

func TestChunkReaderLimits(t *testing.T) {
	setChunk := func(v uint32) []byte {
		var buf bytes.Buffer
		NewWriter(&buf).WriteMessage(message.SetChunkSizeMessage(v))
		return buf.Bytes()
	}
	manyCSIDs := func() []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for i := range 100 {
			w.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, ChunkStreamID: uint32(10 + i), Payload: []byte{1}})
		}
		return buf.Bytes()
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"chunk size 0", setChunk(0), ErrInvalidChunkSize},
		{"chunk size 2^31", setChunk(1 << 31), ErrInvalidChunkSize},
		{"16 MiB header", []byte{0x04, 0, 0, 0, 0xff, 0xff, 0xff, message.TypeVideo, 1, 0, 0, 0}, ErrMessageTooLarge},
		{"many chunk streams", manyCSIDs(), ErrTooManyChunkStreams},
		{"type 1 without type 0", []byte{0x44, 0, 0, 0, 0, 0, 1, message.TypeAudio, 0}, ErrNoPreviousHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(tt.in, 1<<20)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestChunkReaderGrowsWithData: a header declaring 1 MiB with only 10 bytes
// sent must not allocate the megabyte.
func TestChunkReaderGrowsWithData(t *testing.T) {
	in := []byte{0x06, 0, 0, 0, 0x0f, 0xff, 0xff, message.TypeVideo, 1, 0, 0, 0}
	in = append(in, payload(10, 0)...)
	r := NewReader(bufio.NewReader(bytes.NewReader(in)), 1<<20, 64)
	var m message.Message
	r.SetChunkSize(1 << 24)
	if err := r.ReadMessage(&m); err == nil {
		t.Fatal("want EOF")
	}
	if c := cap(r.streams[6].body); c > readStep+initialBodyAlloc*2 {
		t.Fatalf("body buffer cap %d before data arrived", c)
	}
}

// TestChunkReaderBudget: the declared sizes of unfinished messages over all
// chunk streams are bounded; finished, aborted and replaced messages give
// their share back, so a well-behaved peer never meets the bound.
func TestChunkReaderBudget(t *testing.T) {
	half := func(csid byte, size int) []byte { // a type 0 header and one 128-byte chunk
		return append([]byte{csid, 0, 0, 0, byte(size >> 16), byte(size >> 8), byte(size), message.TypeAudio, 1, 0, 0, 0}, make([]byte, 128)...)
	}
	whole := func(csid byte, size int) []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		w.WriteMessage(&message.Message{Type: message.TypeAudio, StreamID: 1, ChunkStreamID: uint32(csid), Payload: make([]byte, size)})
		return buf.Bytes()
	}
	abort := func(csid byte) []byte {
		return append([]byte{2, 0, 0, 0, 0, 0, 4, message.TypeAbort, 0, 0, 0, 0}, 0, 0, 0, csid)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name   string
		in     []byte
		budget int
		want   int // messages read before the end of input (or the error)
		over   bool
	}{
		{"two halves fit", cat(half(10, 16000), half(11, 16000)), 32768, 0, false},
		{"third half passes", cat(half(10, 16000), half(11, 16000), half(12, 16000)), 32768, 0, true},
		{"one message larger than the budget", half(10, 40000), 32768, 0, true},
		{"finished messages give back", cat(whole(10, 30000), whole(11, 30000), whole(12, 30000)), 32768, 3, false},
		{"aborted message gives back", cat(half(10, 30000), abort(10), half(11, 30000)), 32768, 1, false},
		{"replaced message gives back", cat(half(10, 30000), half(10, 30000)), 32768, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in), 1<<20, 64)
			r.SetBudget(tc.budget)
			n := 0
			var err error
			for {
				var m message.Message
				if err = r.ReadMessage(&m); err != nil {
					break
				}
				n++
			}
			if got := errors.Is(err, ErrOverBudget); got != tc.over || n != tc.want {
				t.Fatalf("read %d messages, then %v; want %d and over budget %v", n, err, tc.want, tc.over)
			}
		})
	}
}
