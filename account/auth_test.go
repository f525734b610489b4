package account

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoginAndVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := NewAuth(AuthOptions{Users: map[string]string{"alice": "alice"}, Secret: []byte("0123456789abcdef"), TTL: time.Hour, Now: func() time.Time { return now }})
	if _, _, err := a.Login("alice", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := a.Login("mallory", "x"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	tok, exp, err := a.Login("alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("expiry %v", exp)
	}
	if want := "v1.alice.1700003600."; !strings.HasPrefix(tok, want) || len(tok) != len(want)+64 {
		t.Fatalf("token format: %q", tok)
	}
	if u, err := a.Verify(tok); err != nil || u != "alice" {
		t.Fatalf("verify: %q %v", u, err)
	}
	now = now.Add(time.Hour)
	if _, err := a.Verify(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	secret := []byte("0123456789abcdef")
	a := NewAuth(AuthOptions{Secret: secret})
	exp := time.Now().Add(time.Hour)
	good := MintToken(secret, "bob", exp)
	// The last signature digit changed; "0" when it is not "0" already
	// (it is 1 time in 16: the expiry, and so the signature, vary).
	flipped := good[:len(good)-1] + "0"
	if flipped == good {
		flipped = good[:len(good)-1] + "1"
	}
	if u, err := a.Verify(good); err != nil || u != "bob" {
		t.Fatalf("a backend-minted token for a user not in the list must pass: %q %v", u, err)
	}
	cases := map[string]error{
		MintToken([]byte("another-secret-xx"), "bob", exp): ErrTokenSignature,
		strings.Replace(good, "v1.bob.", "v1.eve.", 1):     ErrTokenSignature,
		flipped:                                nil, // flipped digit: signature or format
		"v1.bob.123":                           ErrBadToken,
		"":                                     ErrBadToken,
		"v2" + good[2:]:                        ErrBadToken,
		"v1.b b." + good[len("v1.bob."):]:      ErrBadToken,
		"v1.bob.-5." + strings.Repeat("0", 64): ErrBadToken,
		"v1.bob.99." + strings.Repeat("z", 64): ErrBadToken,
		"v1." + strings.Repeat("a", 300) + ".1." + "00":        ErrBadToken,
		MintToken(secret, "bob", time.Now().Add(-time.Second)): ErrTokenExpired,
	}
	for tok, want := range cases {
		_, err := a.Verify(tok)
		if err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%q: got %v, want %v", tok, err, want)
		}
	}
	if NewAuth(AuthOptions{}).secret == nil || string(NewAuth(AuthOptions{}).secret) == string(NewAuth(AuthOptions{}).secret) {
		t.Fatal("an empty secret must become a random one per Auth")
	}
}

// FuzzParseToken checks that any input either fails or parses to a token
// that mints back to the same text when signed with the right key.
func FuzzParseToken(f *testing.F) {
	secret := []byte("0123456789abcdef")
	for _, s := range []string{
		MintToken(secret, "alice", time.Unix(1700003600, 0)),
		MintToken(secret, "a.b@c-d_e", time.Unix(0, 0)),
		"v1.bob.123", "v1..1." + strings.Repeat("0", 64), "", "v1.x.1.zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if !ValidUserName(tok.User) || len(tok.sig) != 32 {
			t.Fatalf("accepted %q as %+v", s, tok)
		}
		if tok.String() != s {
			t.Fatalf("round trip of %q gave %q", s, tok.String())
		}
		if MintToken(secret, tok.User, tok.Expires) == s {
			_, err := NewAuth(AuthOptions{Secret: secret, Now: func() time.Time { return time.Unix(0, 0) }}).Verify(s)
			if err != nil && tok.Expires.Unix() > 0 {
				t.Fatalf("minted %q does not verify: %v", s, err)
			}
		}
	})
}
