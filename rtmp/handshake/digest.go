package handshake

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Complex ("digest") handshake constants. The keys are public facts of the
// protocol, as published in rtmpdump (librtmp/handshake.h: GenuineFPKey,
// GenuineFMSKey) and ffmpeg (libavformat/rtmpproto.c: rtmp_player_key,
// rtmp_server_key, PLAYER_KEY_OPEN_PART_LEN 30, SERVER_KEY_OPEN_PART_LEN 36).
const (
	handshakeSize = 1536
	digestLen     = 32
	digestSpan    = 728 // the digest lies in a 728-byte part after its 4 offset bytes
	playerKeyOpen = 30  // "Genuine Adobe Flash Player 001"
	serverKeyOpen = 36  // "Genuine Adobe Flash Media Server 001"
)

// handshakeKeyTail is the 32 bytes both keys end with.
var handshakeKeyTail = []byte{
	0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02,
	0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8,
	0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
}

var (
	playerKey = append([]byte("Genuine Adobe Flash Player 001"), handshakeKeyTail...)       // 62 bytes
	serverKey = append([]byte("Genuine Adobe Flash Media Server 001"), handshakeKeyTail...) // 68 bytes
)

// Versions written into complex C1/S1 (bytes 4..7).
var (
	// ffmpeg's RTMP_CLIENT_VER 9.0.124.2.
	clientVersion = [4]byte{9, 0, 124, 2}
	// FMS 4.5.0.1, as other servers answer; ffmpeg requires byte 0 >= 3 to
	// validate the S1 digest.
	serverVersion = [4]byte{4, 5, 0, 1}
)

// DigestScheme says where the digest lives in C1/S1. Scheme 0 (ffmpeg, Flash
// Player 9) keeps its offset bytes at 8..11; scheme 1 (Flash Player 10,
// rtmpdump -w) at 772..775.
type DigestScheme int

// Digest schemes.
const (
	DigestScheme0 DigestScheme = 0
	DigestScheme1 DigestScheme = 1
)

// digestOffset returns where the 32-byte digest starts in a 1536-byte C1/S1.
func digestOffset(b []byte, scheme DigestScheme) int {
	base := 8
	if scheme == DigestScheme1 {
		base = 772
	}
	sum := int(b[base]) + int(b[base+1]) + int(b[base+2]) + int(b[base+3])
	return base + 4 + sum%digestSpan
}

// packetDigest is the HMAC-SHA256 of the packet without the 32 bytes at off.
func packetDigest(b []byte, off int, key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(b[:off])
	h.Write(b[off+digestLen:])
	return h.Sum(nil)
}

// findDigest validates the digest of C1 (key playerKey[:30]) or S1 (key
// serverKey[:36]) in either scheme; it returns the digest and its scheme.
func findDigest(b []byte, key []byte) ([]byte, DigestScheme, bool) {
	for _, s := range []DigestScheme{DigestScheme0, DigestScheme1} {
		off := digestOffset(b, s)
		if hmac.Equal(b[off:off+digestLen], packetDigest(b, off, key)) {
			return b[off : off+digestLen], s, true
		}
	}
	return nil, 0, false
}

// imprintDigest writes the digest of b into b at the scheme's position.
func imprintDigest(b []byte, scheme DigestScheme, key []byte) []byte {
	off := digestOffset(b, scheme)
	copy(b[off:], packetDigest(b, off, key))
	return b[off : off+digestLen]
}

// responseSignature is the last 32 bytes of S2 (or C2): HMAC of the first
// 1504 bytes keyed with HMAC(fullKey, peerDigest).
func responseSignature(b []byte, peerDigest []byte, fullKey []byte) []byte {
	k := hmac.New(sha256.New, fullKey)
	k.Write(peerDigest)
	h := hmac.New(sha256.New, k.Sum(nil))
	h.Write(b[:handshakeSize-digestLen])
	return h.Sum(nil)
}
