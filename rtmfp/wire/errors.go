package wire

import "errors"

// Errors of the wire layer. A packet that fails with one of them is dropped.
var (
	// ErrBufferTooShort is an encoding shorter than its format needs.
	ErrBufferTooShort = errors.New("rtmfp: buffer too short")
	// ErrBadMode is a packet whose header mode does not fit where it came.
	ErrBadMode = errors.New("rtmfp: unexpected header mode")
	// ErrBadOption is a malformed option or option list.
	ErrBadOption = errors.New("rtmfp: malformed option")

	errVLUTooLong   = errors.New("rtmfp: VLU longer than 9 bytes")
	errFieldTooLong = errors.New("rtmfp: field longer than its packet")
	errBadLength    = errors.New("rtmfp: ciphertext length not a multiple of 16")
	errChecksum     = errors.New("rtmfp: bad checksum")
	errHMAC         = errors.New("rtmfp: bad HMAC")
	errReplay       = errors.New("rtmfp: replayed or too old session sequence number")
	errChunkTooLong = errors.New("rtmfp: chunk longer than its packet")
	errBadPublicKey = errors.New("rtmfp: Diffie-Hellman public key rejected")
	errBadGroup     = errors.New("rtmfp: unsupported Diffie-Hellman group")
	errNegotiation  = errors.New("rtmfp: HMAC or sequence number negotiation failed")
	errBadCert      = errors.New("rtmfp: malformed certificate")
)
