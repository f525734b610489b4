package handshake

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"io"
)

// Mode is the handshake Client performs.
type Mode int

// Handshake modes.
const (
	// Complex sends a digest C1 as Flash Player and ffmpeg do and
	// verifies the server's S1/S2 if it answers in kind.
	Complex Mode = iota
	// Simple sends a version-0 C1 (RTMP 1.0 §5.2).
	Simple
	// Encrypted is RTMPE (C0 = 6: Diffie-Hellman, then RC4).
	Encrypted
)

// Options configures the client side of the handshake.
type Options struct {
	Mode Mode
	// Scheme places the C1 digest (complex mode only).
	Scheme DigestScheme
}

// Info describes what a server-side handshake found.
type Info struct {
	// Complex is true when the client sent a valid digest C1.
	Complex bool
	// Scheme is the digest scheme the client used (if Complex).
	Scheme DigestScheme
	// Encrypted is true for RTMPE.
	Encrypted bool
	// ClientVersion is bytes 4..7 of C1, the client's version (e.g. 9.0.124.2).
	ClientVersion [4]byte
}

// Server runs the server side on rw and returns the stream to use
// afterwards (rw itself, or an RC4 layer over it for RTMPE). A client sending
// a complex C1 gets a digest S1 and a signed S2; any other C1 gets the simple
// echo. C2 is read but not checked: clients fill it inconsistently. The
// caller sets the deadline.
func Server(rw io.ReadWriter) (io.ReadWriter, Info, error) {
	var info Info
	var c0 [1]byte
	if _, err := io.ReadFull(rw, c0[:]); err != nil {
		return nil, info, fmt.Errorf("%w: reading C0: %w", ErrFailed, err)
	}
	switch c0[0] {
	case 3:
	case 6:
		info.Encrypted = true
		erw, err := serverRTMPE(rw)
		return erw, info, err
	case 8, 9:
		return nil, info, fmt.Errorf("%w: RTMPE type %d (XTEA/Blowfish) is not supported", ErrUnsupportedVersion, c0[0])
	default:
		return nil, info, fmt.Errorf("%w: C0 version %d", ErrUnsupportedVersion, c0[0])
	}

	c1 := make([]byte, handshakeSize)
	if _, err := io.ReadFull(rw, c1); err != nil {
		return nil, info, fmt.Errorf("%w: reading C1: %w", ErrFailed, err)
	}
	copy(info.ClientVersion[:], c1[4:8])

	out := make([]byte, 1+2*handshakeSize)
	out[0] = 3
	s1 := out[1 : 1+handshakeSize]
	s2 := out[1+handshakeSize:]
	if _, err := rand.Read(s1[8:]); err != nil {
		return nil, info, err
	}
	var c1Digest []byte
	if info.ClientVersion != [4]byte{} {
		c1Digest, info.Scheme, info.Complex = findDigest(c1, playerKey[:playerKeyOpen])
	}
	if info.Complex {
		copy(s1[4:8], serverVersion[:])
		imprintDigest(s1, info.Scheme, serverKey[:serverKeyOpen])
		if _, err := rand.Read(s2); err != nil {
			return nil, info, err
		}
		copy(s2[handshakeSize-digestLen:], responseSignature(s2, c1Digest, serverKey))
	} else {
		copy(s2, c1)
	}
	if _, err := rw.Write(out); err != nil {
		return nil, info, fmt.Errorf("%w: writing S0S1S2: %w", ErrFailed, err)
	}
	c2 := c1 // reuse the buffer
	if _, err := io.ReadFull(rw, c2); err != nil {
		return nil, info, fmt.Errorf("%w: reading C2: %w", ErrFailed, err)
	}
	return rw, info, nil
}

// Client runs the client side on rw and returns the stream to use
// afterwards. The caller sets the deadline.
func Client(rw io.ReadWriter, opts Options) (io.ReadWriter, error) {
	if opts.Mode == Encrypted {
		return clientRTMPE(rw)
	}
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = 3
	c1 := c0c1[1:]
	if _, err := rand.Read(c1[8:]); err != nil {
		return nil, err
	}
	var c1Digest []byte
	if opts.Mode == Complex {
		copy(c1[4:8], clientVersion[:])
		c1Digest = imprintDigest(c1, opts.Scheme, playerKey[:playerKeyOpen])
	}
	if _, err := rw.Write(c0c1); err != nil {
		return nil, fmt.Errorf("%w: writing C0C1: %w", ErrFailed, err)
	}

	s := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(rw, s); err != nil {
		return nil, fmt.Errorf("%w: reading S0S1S2: %w", ErrFailed, err)
	}
	if s[0] != 3 {
		return nil, fmt.Errorf("%w: S0 version %d", ErrUnsupportedVersion, s[0])
	}
	s1 := s[1 : 1+handshakeSize]
	s2 := s[1+handshakeSize:]

	c2 := make([]byte, handshakeSize)
	var s1Digest []byte
	complexServer := false
	if opts.Mode == Complex && [4]byte(s1[4:8]) != [4]byte{} {
		s1Digest, _, complexServer = findDigest(s1, serverKey[:serverKeyOpen])
	}
	if complexServer {
		want := responseSignature(s2, c1Digest, serverKey)
		if !hmac.Equal(want, s2[handshakeSize-digestLen:]) {
			return nil, fmt.Errorf("%w: S2 signature does not match our C1 digest", ErrFailed)
		}
		if _, err := rand.Read(c2); err != nil {
			return nil, err
		}
		copy(c2[handshakeSize-digestLen:], responseSignature(c2, s1Digest, playerKey))
	} else {
		copy(c2, s1)
	}
	if _, err := rw.Write(c2); err != nil {
		return nil, fmt.Errorf("%w: writing C2: %w", ErrFailed, err)
	}
	return rw, nil
}
