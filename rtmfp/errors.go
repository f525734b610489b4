package rtmfp

import "errors"

// Errors of the wire layer. A packet that fails with one of them is dropped.
var (
	errBufferTooShort = errors.New("rtmfp: buffer too short")
	errVLUTooLong     = errors.New("rtmfp: VLU longer than 9 bytes")
	errFieldTooLong   = errors.New("rtmfp: field longer than its packet")
	errBadLength      = errors.New("rtmfp: ciphertext length not a multiple of 16")
	errChecksum       = errors.New("rtmfp: bad checksum")
	errHMAC           = errors.New("rtmfp: bad HMAC")
	errReplay         = errors.New("rtmfp: replayed or too old session sequence number")
	errChunkTooLong   = errors.New("rtmfp: chunk longer than its packet")
	errBadMode        = errors.New("rtmfp: unexpected header mode")
	errBadOption      = errors.New("rtmfp: malformed option")
	errBadPublicKey   = errors.New("rtmfp: Diffie-Hellman public key rejected")
	errBadGroup       = errors.New("rtmfp: unsupported Diffie-Hellman group")
	errNegotiation    = errors.New("rtmfp: HMAC or sequence number negotiation failed")
	errBadCert        = errors.New("rtmfp: malformed certificate")
)

// Errors a Conn or Server returns.
var (
	// ErrClosed is returned by a Conn whose session has ended.
	ErrClosed = errors.New("rtmfp: session closed")
	// ErrServerClosed is returned by Serve after the context ends.
	ErrServerClosed = errors.New("rtmfp: server closed")
)

// ErrIdle ends a session that received nothing for the idle timeout.
var ErrIdle = errors.New("rtmfp: idle timeout")

var (
	errNoControlFlow  = errors.New("rtmfp: no control flow from the peer yet")
	errTooManyStreams = errors.New("rtmfp: too many streams")
)

var errUnknownSession = errors.New("rtmfp: unknown session ID")
