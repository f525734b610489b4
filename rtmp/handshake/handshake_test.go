package handshake

import (
	"bytes"
	"crypto/hmac"
	"io"
	"net"
	"testing"
	"time"

	gortmpl "github.com/bluenviron/gortmplib/pkg/handshake"
)

func pipe(t *testing.T) (net.Conn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	a.SetDeadline(time.Now().Add(5 * time.Second))
	b.SetDeadline(time.Now().Add(5 * time.Second))
	return a, b
}

func TestHandshakeBothDirections(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		complex bool
	}{
		{"simple", Options{Mode: Simple}, false},
		{"complex scheme 0", Options{Mode: Complex, Scheme: DigestScheme0}, true},
		{"complex scheme 1", Options{Mode: Complex, Scheme: DigestScheme1}, true},
		{"rtmpe", Options{Mode: Encrypted}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, sc := pipe(t)
			type res struct {
				rw   io.ReadWriter
				info Info
				err  error
			}
			done := make(chan res, 1)
			go func() {
				rw, info, err := Server(sc)
				done <- res{rw, info, err}
			}()
			crw, err := Client(cc, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.info.Complex != tt.complex || (tt.complex && r.info.Scheme != tt.opts.Scheme) {
				t.Fatalf("info %+v", r.info)
			}
			// the streams work afterwards (RC4 in sync for RTMPE)
			go crw.Write([]byte("hello"))
			got := make([]byte, 5)
			if _, err := io.ReadFull(r.rw, got); err != nil || string(got) != "hello" {
				t.Fatalf("after handshake read %q %v", got, err)
			}
		})
	}
}

// TestHandshakeServerDigest checks our S1/S2 against a complex C1 the way
// ffmpeg does: S1 digest with the 36-byte FMS key, S2 signature keyed by
// HMAC(full FMS key, C1 digest).
func TestHandshakeServerDigest(t *testing.T) {
	for _, scheme := range []DigestScheme{DigestScheme0, DigestScheme1} {
		cc, sc := pipe(t)
		go Server(sc)
		c1 := make([]byte, handshakeSize)
		for i := range c1 {
			c1[i] = byte(i * 7)
		}
		copy(c1[4:], clientVersion[:])
		c1Digest := append([]byte(nil), imprintDigest(c1, scheme, playerKey[:playerKeyOpen])...)
		cc.Write(append([]byte{3}, c1...))
		s := make([]byte, 1+2*handshakeSize)
		if _, err := io.ReadFull(cc, s); err != nil {
			t.Fatal(err)
		}
		s1, s2 := s[1:1+handshakeSize], s[1+handshakeSize:]
		if s1[4] < 3 {
			t.Fatalf("S1 version %v: ffmpeg skips validation below 3", s1[4:8])
		}
		_, got, ok := findDigest(s1, serverKey[:serverKeyOpen])
		if !ok || got != scheme {
			t.Fatalf("scheme %d: S1 digest not valid with the FMS key (found scheme %d ok %v)", scheme, got, ok)
		}
		if !hmac.Equal(s2[handshakeSize-32:], responseSignature(s2, c1Digest, serverKey)) {
			t.Fatalf("scheme %d: S2 signature invalid", scheme)
		}
		cc.Write(make([]byte, handshakeSize))
	}
}

func TestHandshakeServerSimpleEchoesC1(t *testing.T) {
	cc, sc := pipe(t)
	go Server(sc)
	c1 := make([]byte, handshakeSize)
	for i := range c1 {
		c1[i] = 3 + byte(i)
	}
	copy(c1[4:8], []byte{0, 0, 0, 0})
	cc.Write(append([]byte{3}, c1...))
	s := make([]byte, 1+2*handshakeSize)
	io.ReadFull(cc, s)
	if !bytes.Equal(s[1+handshakeSize:], c1) {
		t.Fatal("S2 is not C1")
	}
}

func TestHandshakeRejects(t *testing.T) {
	for _, v := range []byte{0, 'G', 8, 9} {
		cc, sc := pipe(t)
		go cc.Write([]byte{v})
		if _, _, err := Server(sc); err == nil {
			t.Fatalf("version %d accepted", v)
		}
	}
}

// TestHandshakeRTMPEWithGortmplib checks interop with gortmplib's client.
func TestHandshakeRTMPEWithGortmplib(t *testing.T) {
	cc, sc := pipe(t)
	go Server(sc)
	if _, _, err := gortmpl.DoClient(cc, true, false); err != nil {
		t.Fatal(err)
	}
}
