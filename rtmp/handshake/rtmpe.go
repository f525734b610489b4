package handshake

import (
	"bytes"
	"crypto/rc4"
	"fmt"
	"io"

	gortmpl "github.com/bluenviron/gortmplib/pkg/handshake"
)

// RTMPE (C0 = 6) uses gortmplib's pkg/handshake for the Diffie-Hellman
// exchange and digest checks, then RC4 in both directions. gortmplib reads
// C0 itself, so the byte we already consumed is put back in front.

func serverRTMPE(rw io.ReadWriter) (io.ReadWriter, error) {
	replay := struct {
		io.Reader
		io.Writer
	}{io.MultiReader(bytes.NewReader([]byte{6}), rw), rw}
	keyIn, keyOut, err := gortmpl.DoServer(replay, false)
	if err != nil {
		return nil, fmt.Errorf("%w: rtmpe: %w", ErrFailed, err)
	}
	return newRC4Stream(rw, keyIn, keyOut)
}

func clientRTMPE(rw io.ReadWriter) (io.ReadWriter, error) {
	keyIn, keyOut, err := gortmpl.DoClient(rw, true, false)
	if err != nil {
		return nil, fmt.Errorf("%w: rtmpe: %w", ErrFailed, err)
	}
	return newRC4Stream(rw, keyIn, keyOut)
}

// rc4Stream encrypts into its own buffer: callers' buffers (shared message
// payloads) are never modified in place.
type rc4Stream struct {
	rw      io.ReadWriter
	in, out *rc4.Cipher
	buf     []byte
}

func newRC4Stream(rw io.ReadWriter, keyIn, keyOut []byte) (*rc4Stream, error) {
	in, err := rc4.NewCipher(keyIn)
	if err != nil {
		return nil, err
	}
	out, err := rc4.NewCipher(keyOut)
	if err != nil {
		return nil, err
	}
	// Both sides discard the first 1536 bytes of each keystream (the
	// handshake's length), as rtmpdump and ffmpeg do.
	skip := make([]byte, handshakeSize)
	in.XORKeyStream(skip, skip)
	out.XORKeyStream(skip, skip)
	return &rc4Stream{rw: rw, in: in, out: out}, nil
}

func (s *rc4Stream) Read(p []byte) (int, error) {
	n, err := s.rw.Read(p)
	s.in.XORKeyStream(p[:n], p[:n])
	return n, err
}

func (s *rc4Stream) Write(p []byte) (int, error) {
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	b := s.buf[:len(p)]
	s.out.XORKeyStream(b, p)
	return s.rw.Write(b)
}
