package sipbridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// A digest nonce is base64url(issued | random | mac): issued is the Unix
// time in milliseconds (8 bytes, big-endian), random 8 bytes so that two
// challenges never share a nonce (and its nonce-counts), and mac the
// first 16 bytes of HMAC-SHA256(key, issued | random | client IP). The
// server keeps nothing per challenge; a nonce answered from another
// address, altered or forged fails the MAC.
const (
	nonceRandLen = 8
	nonceMACLen  = 16
	nonceLen     = 8 + nonceRandLen + nonceMACLen
)

// makeNonce issues a nonce at now to the client whose address key is ip.
func makeNonce(key []byte, now time.Time, r [nonceRandLen]byte, ip string) string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli()))
	copy(b[8:], r[:])
	copy(b[8+nonceRandLen:], nonceMAC(key, b[:8+nonceRandLen], ip))
	return nonceEncoding.EncodeToString(b[:])
}

// parseNonce returns when nonce was issued; ok is false unless it is one
// of ours issued to ip.
func parseNonce(key []byte, nonce, ip string) (issued time.Time, ok bool) {
	if nonceEncoding.DecodedLen(len(nonce)) != nonceLen {
		return time.Time{}, false
	}
	b, err := nonceEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen {
		return time.Time{}, false
	}
	if !hmac.Equal(nonceMAC(key, b[:8+nonceRandLen], ip), b[8+nonceRandLen:]) {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8]))), true
}

func nonceMAC(key, head []byte, ip string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(head)
	m.Write([]byte(ip))
	return m.Sum(nil)[:nonceMACLen]
}

// Strict: a nonce has exactly one spelling. Without it the last character's
// unused bits could vary and one issued nonce would have several accepted
// strings, each with a nonce-count history of its own (found by FuzzParseNonce).
var nonceEncoding = base64.RawURLEncoding.Strict()
