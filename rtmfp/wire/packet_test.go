package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"os"
	"reflect"
	"testing"
)

var packetCases = []Packet{
	{Header: Header{Flags: ModeStartup}, Chunks: []Chunk{{Type: ChunkIHello, Value: []byte{1, 2, 3}}}},
	{Header: Header{Flags: ModeResponder | FlagTimestamp, Timestamp: 0x1234}, Chunks: []Chunk{{Type: ChunkPing, Value: []byte{}}}},
	{Header: Header{Flags: ModeInitiator | FlagTimestamp | FlagTimestampEcho, Timestamp: 1, TimestampEcho: 0xfffe},
		Chunks: []Chunk{{Type: ChunkUserData, Value: []byte{0, 1, 1, 0, 8}}, {Type: ChunkAckRanges, Value: []byte{1, 64, 3}}}},
	{Header: Header{Flags: ModeInitiator | FlagTimeCritical}, Chunks: []Chunk{}},
}

func TestPacketRoundTrip(t *testing.T) {
	for i, p := range packetCases {
		b := p.AppendTo(nil)
		if len(b) != p.MarshalSize() {
			t.Errorf("case %d: size %d, MarshalSize %d", i, len(b), p.MarshalSize())
		}
		var q Packet
		if err := q.Unmarshal(append(b, 0xff, 0xff, 0xff)); err != nil { // with padding
			t.Fatalf("case %d: %v", i, err)
		}
		if q.Chunks == nil {
			q.Chunks = []Chunk{}
		}
		if !reflect.DeepEqual(p, q) {
			t.Errorf("case %d: got %+v, want %+v", i, q, p)
		}
	}
	var q Packet
	for _, bad := range [][]byte{{}, {FlagTimestamp}, {FlagTimestampEcho | FlagTimestamp, 0, 0, 1}, {3, 0x10, 0, 9, 1}} {
		if err := q.Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal(%x) accepted", bad)
		}
	}
}

func TestChecksum(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want uint16
	}{
		{nil, 0xffff},
		{[]byte{0x00, 0x01}, 0xfffe},
		{[]byte{0x01}, 0xfffe}, // a trailing odd byte is the low byte (as rtmfp-cpp and Flash)
		{[]byte{0xff, 0xff, 0x00, 0x01}, 0xfffe},
		{[]byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}, 0xb861}, // RFC 1071 style IPv4 header
	} {
		if got := checksum(c.in); got != c.want {
			t.Errorf("checksum(%x) = %04x, want %04x", c.in, got, c.want)
		}
	}
}

// TestDefaultKeyVector decrypts the first datagram rtmfp-cpp's tcconn sent
// (captured): an IHello whose EPD is the URI.
func TestDefaultKeyVector(t *testing.T) {
	d, err := os.ReadFile("testdata/ihello-tcconn.bin")
	if err != nil {
		t.Fatal(err)
	}
	port, _ := os.ReadFile("testdata/ihello-tcconn.port")
	if id := ScrambledSessionID(d); id != 0 {
		t.Fatalf("session ID %08x, want 0", id)
	}
	plain, err := NewDefaultCrypto().Open(nil, d[4:])
	if err != nil {
		t.Fatal(err)
	}
	var p Packet
	if err := p.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if p.Mode() != ModeStartup || len(p.Chunks) != 1 || p.Chunks[0].Type != ChunkIHello {
		t.Fatalf("packet %+v", p)
	}
	var h IHello
	var e EPD
	if err := h.Unmarshal(p.Chunks[0].Value); err != nil {
		t.Fatal(err)
	}
	if err := e.Unmarshal(h.EPD); err != nil {
		t.Fatal(err)
	}
	if want := "rtmfp://127.0.0.1:" + string(port) + "/live"; string(e.Ancillary) != want || len(h.Tag) != 16 {
		t.Errorf("EPD URI %q (want %q), tag %d bytes", e.Ancillary, want, len(h.Tag))
	}
	// Our sealing of the same plaintext gives the same bytes (padding,
	// checksum, zero IV, scrambled ID are all deterministic).
	again := NewDefaultCrypto().Seal(nil, 0, plain[:len(plain)-padLen(plain)])
	if !bytes.Equal(again, d) {
		t.Errorf("re-sealed\n%x\nwant\n%x", again, d)
	}
}

// padLen counts the 0xff padding after the last chunk.
func padLen(plain []byte) int {
	var p Packet
	_ = p.Unmarshal(plain)
	n := p.MarshalSize()
	return len(plain) - n
}

func TestSealOpen(t *testing.T) {
	enc, dec := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16)
	for _, c := range []struct {
		name      string
		hmac, seq bool
	}{{"checksum", false, false}, {"seq", false, true}, {"hmac", true, false}, {"hmac+seq", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			a, b := NewPacketCrypto(enc, dec), NewPacketCrypto(dec, enc)
			if c.hmac {
				a.HMACTx, a.hmacTxLen = hmac.New(sha256.New, []byte("k")), 16
				b.hmacRx, b.hmacRxLen = hmac.New(sha256.New, []byte("k")), 16
			}
			a.SeqTx, b.seqRx = c.seq, c.seq
			for _, p := range packetCases {
				plain := p.AppendTo(nil)
				d := a.Seal(nil, 0xdeadbeef, plain)
				if (len(d)-4-a.hmacTxLen)%16 != 0 {
					t.Fatalf("ciphertext %d bytes", len(d))
				}
				if len(d) > len(plain)+a.Overhead() {
					t.Fatalf("datagram %d bytes > plain %d + overhead %d", len(d), len(plain), a.Overhead())
				}
				if id := ScrambledSessionID(d); id != 0xdeadbeef {
					t.Fatalf("session ID %08x", id)
				}
				got, err := b.Open(nil, d[4:])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(got, plain) || len(bytes.Trim(got[len(plain):], "\xff")) != 0 {
					t.Fatalf("opened %x, want %x + padding", got, plain)
				}
				if c.seq {
					if _, err := b.Open(nil, d[4:]); !errors.Is(err, errReplay) {
						t.Fatalf("replay: %v", err)
					}
				}
				d[len(d)-1] ^= 1
				if _, err := b.Open(nil, d[4:]); err == nil {
					t.Fatal("corrupted datagram accepted")
				}
			}
		})
	}
}

func TestSeqWindow(t *testing.T) {
	var w seqWindow
	for _, s := range []uint64{0, 1, 5, 3, 100, 90} {
		if !w.fresh(s) {
			t.Fatalf("%d not fresh", s)
		}
		w.add(s)
	}
	for _, s := range []uint64{0, 1, 5, 100, 90, 68, 3} {
		if w.fresh(s) {
			t.Errorf("%d fresh again (or too old)", s)
		}
	}
	if !w.fresh(99) || !w.fresh(101) {
		t.Error("unseen recent numbers refused")
	}
}

func FuzzPacket(f *testing.F) {
	for _, p := range packetCases {
		f.Add(p.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.Unmarshal(b); err != nil {
			return
		}
		re := p.AppendTo(nil)
		var q Packet
		if err := q.Unmarshal(re); err != nil || len(q.Chunks) != len(p.Chunks) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzOpen feeds arbitrary datagrams to the handshake decryption: no
// panic, and what opens parses or fails cleanly.
func FuzzOpen(f *testing.F) {
	c := NewDefaultCrypto()
	for _, p := range packetCases {
		f.Add(c.Seal(nil, 0, p.AppendTo(nil)))
	}
	if d, err := os.ReadFile("testdata/ihello-tcconn.bin"); err == nil {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		if len(d) < 4 {
			return
		}
		_ = ScrambledSessionID(d)
		plain, err := NewDefaultCrypto().Open(nil, d[4:])
		if err != nil {
			return
		}
		var p Packet
		_ = p.Unmarshal(plain)
	})
}
