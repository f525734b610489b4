// Package passhash hashes and verifies account passwords with argon2id in
// the PHC string format that libargon2, PHP and Python's argon2-cffi write:
//
//	$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH
//
// (SALT and HASH in unpadded standard base64), and computes the SIP digest
// HA1 values stored beside the hash. The strings come from the
// configuration file, so Parse bounds every parameter before anything is
// allocated: a hash string cannot make the server compute for minutes or
// allocate gigabytes.
package passhash

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// Default is OWASP's argon2id recommendation (Password Storage Cheat
// Sheet): 19 MiB, 2 passes, 1 thread, about 30 ms on one core.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Limits of what Parse accepts.
const (
	MaxMemory  = 256 * 1024 // KiB (256 MiB)
	MaxTime    = 32
	MaxThreads = 16
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
	maxLen     = 512 // longest hash string looked at
	saltLen    = 16  // what Hash writes
	keyLen     = 32
	version    = argon2.Version // 0x13 = 19
)

// ErrFormat is wrapped by every Parse error.
var ErrFormat = errors.New("not an argon2id PHC string ($argon2id$v=19$m=M,t=T,p=P$SALT$HASH)")

var b64 = base64.RawStdEncoding.Strict()

// Hash is a parsed argon2id hash string.
type Hash struct {
	Params
	Salt, Key []byte
}

// New hashes password with p and a fresh 16-byte random salt.
func New(password string, p Params) Hash {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand panics on a broken system)
	return Hash{Params: p, Salt: salt, Key: argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)}
}

// String is the PHC string of h.
func (h Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", version, h.Memory, h.Time, h.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Verify reports whether password hashes to h's key (constant-time compare).
// It costs one argon2id computation of h's parameters.
func (h Hash) Verify(password string) bool {
	k := argon2.IDKey([]byte(password), h.Salt, h.Time, h.Memory, h.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(k, h.Key) == 1
}

// Parse reads a PHC argon2id string, checking every field and bound. It
// never panics on input.
func Parse(s string) (Hash, error) {
	var h Hash
	if len(s) > maxLen {
		return h, fmt.Errorf("%w: longer than %d bytes", ErrFormat, maxLen)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, fmt.Errorf("%w: want 5 fields after a leading $", ErrFormat)
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: algorithm %q (only argon2id)", ErrFormat, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(version) {
		return h, fmt.Errorf("%w: version must be v=%d", ErrFormat, version)
	}
	if err := h.parseParams(parts[3]); err != nil {
		return h, err
	}
	var err error
	if h.Salt, err = decode(parts[4], "salt", minSalt, maxSalt); err != nil {
		return h, err
	}
	if h.Key, err = decode(parts[5], "hash", minKey, maxKey); err != nil {
		return h, err
	}
	return h, nil
}

// parseParams reads "m=M,t=T,p=P" (that order, as libargon2 writes it).
func (h *Hash) parseParams(s string) error {
	kv := strings.Split(s, ",")
	if len(kv) != 3 {
		return fmt.Errorf("%w: parameters must be m=M,t=T,p=P", ErrFormat)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || strconv.FormatUint(n, 10) != v {
			return fmt.Errorf("%w: parameter %d must be %s=<decimal>", ErrFormat, i+1, name)
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > MaxThreads:
		return fmt.Errorf("%w: p must be 1..%d, got %d", ErrFormat, MaxThreads, p)
	case t < 1 || t > MaxTime:
		return fmt.Errorf("%w: t must be 1..%d, got %d", ErrFormat, MaxTime, t)
	case m < 8*p || m > MaxMemory:
		return fmt.Errorf("%w: m must be %d..%d KiB (at least 8 per thread), got %d", ErrFormat, 8*p, MaxMemory, m)
	}
	h.Params = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}
	return nil
}

func decode(s, what string, lo, hi int) ([]byte, error) {
	if n := b64.DecodedLen(len(s)); n < lo || n > hi {
		return nil, fmt.Errorf("%w: %s must be %d..%d bytes", ErrFormat, what, lo, hi)
	}
	b, err := b64.DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") { // the decoder skips newlines

		return nil, fmt.Errorf("%w: %s is not unpadded base64", ErrFormat, what)
	}
	return b, nil
}

// SIP digest algorithms HA1 knows (RFC 7616 names).
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// HA1 is the digest HA1 of user, realm and password for algorithm (MD5 or
// SHA-256), in lower-case hex: H(user:realm:password). ok is false for
// another algorithm.
func HA1(algorithm, user, realm, password string) (string, bool) {
	in := []byte(user + ":" + realm + ":" + password)
	switch algorithm {
	case MD5:
		s := md5.Sum(in)
		return hex.EncodeToString(s[:]), true
	case SHA256:
		s := sha256.Sum256(in)
		return hex.EncodeToString(s[:]), true
	}
	return "", false
}

// ValidHA1 reports whether s is an HA1 of algorithm: lower-case hex of 32
// (MD5) or 64 (SHA-256) digits.
func ValidHA1(algorithm, s string) bool {
	n := map[string]int{MD5: 2 * md5.Size, SHA256: 2 * sha256.Size}[algorithm]
	return n > 0 && len(s) == n && strings.Trim(s, "0123456789abcdef") == ""
}
