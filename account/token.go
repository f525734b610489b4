package account

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// tokenVersion prefixes every token so the format can change later.
const tokenVersion = "v1"

// maxTokenLen bounds what ParseToken looks at (a user name is at most 64 bytes).
const maxTokenLen = 256

// Token is the decoded content of a token. Its format is
//
//	v1.USER.EXPIRY.SIG
//
// with EXPIRY in Unix seconds and SIG the lower-case hex HMAC-SHA256, keyed
// by auth.secret, of "v1.USER.EXPIRY" (everything before the last dot).
type Token struct {
	User    string
	Expires time.Time
	sig     []byte
	signed  string
}

// MintToken returns a token for user valid until expires, signed with secret.
func MintToken(secret []byte, user string, expires time.Time) string {
	payload := tokenVersion + "." + user + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + hex.EncodeToString(sign(secret, payload))
}

func sign(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// ParseToken splits a token into its parts without checking the signature
// (Verify does). It never panics on input.
func ParseToken(s string) (Token, error) {
	if len(s) > maxTokenLen {
		return Token{}, fmt.Errorf("%w: longer than %d bytes", ErrBadToken, maxTokenLen)
	}
	rest, ok := strings.CutPrefix(s, tokenVersion+".")
	if !ok {
		return Token{}, fmt.Errorf("%w: does not start with %q", ErrBadToken, tokenVersion+".")
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return Token{}, fmt.Errorf("%w: no signature", ErrBadToken)
	}
	sigHex := rest[i+1:]
	if len(sigHex) != 2*sha256.Size || strings.Trim(sigHex, "0123456789abcdef") != "" {
		return Token{}, fmt.Errorf("%w: signature is not 64 lower-case hex digits", ErrBadToken)
	}
	sig, _ := hex.DecodeString(sigHex)
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '.')
	if j < 0 {
		return Token{}, fmt.Errorf("%w: no expiry", ErrBadToken)
	}
	expText := rest[j+1:]
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || exp < 0 || exp > 1<<40 || strconv.FormatInt(exp, 10) != expText {
		return Token{}, fmt.Errorf("%w: expiry is not Unix seconds", ErrBadToken)
	}
	user := rest[:j]
	if !ValidUserName(user) {
		return Token{}, fmt.Errorf("%w: %w", ErrBadToken, ErrBadUser)
	}
	return Token{User: user, Expires: time.Unix(exp, 0), sig: sig, signed: s[:len(tokenVersion)+1+i]}, nil
}

// String returns the token's text.
func (t Token) String() string { return t.signed + "." + hex.EncodeToString(t.sig) }

// ValidUserName reports whether name may be a user name: 1..64 characters
// of A-Z a-z 0-9 . _ @ - (safe in tokens, URLs, headers and logs). It is
// the same rule config applies to users.
func ValidUserName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r == '.' || r == '_' || r == '@' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}
