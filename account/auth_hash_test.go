package account

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
)

// hashed is "correct horse battery staple" as `flashvox passwd --user alice`
// (realm flashvox) prints it; the HA1s are coreutils md5sum/sha256sum of
// "alice:flashvox:correct horse battery staple".
var hashed = Account{
	Name:         "alice",
	PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0",
	HA1:          "0c17af8690681b9e6f0206a494961e01",
	HA1SHA256:    "f436f10a2e19ad47cee51a1fefe67b87883429e92eacca1f775a212dda4f4434",
}

func TestHashedAndPlaintextAccounts(t *testing.T) {
	a := NewAuth(AuthOptions{
		Accounts: []Account{hashed, {Name: "hashonly", PasswordHash: hashed.PasswordHash}, {Name: "broken", PasswordHash: "$argon2id$nope"}},
		Users:    map[string]string{"bob": "bob-pass"},
		Secret:   []byte("0123456789abcdef"),
	})
	for _, c := range []struct {
		user, pw string
		ok       bool
	}{
		{"alice", "correct horse battery staple", true},
		{"alice", "correct horse battery stapl", false},
		{"alice", "", false},
		{"bob", "bob-pass", true},
		{"bob", "bob", false},
		{"mallory", "correct horse battery staple", false},
		{"broken", "", false},
		{"broken", "$argon2id$nope", false},
	} {
		err := a.Password(c.user, c.pw)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadCredentials)) {
			t.Errorf("Password(%q, %q) = %v", c.user, c.pw, err)
		}
	}
	if tok, _, err := a.Login("alice", "correct horse battery staple"); err != nil || claimedUser(tok) != "alice" {
		t.Fatalf("login with a hash: %q %v", tok, err)
	}
	for _, c := range []struct {
		user, alg, want string
		ok              bool
	}{
		{"alice", "MD5", hashed.HA1, true},
		{"alice", "SHA-256", hashed.HA1SHA256, true},
		{"hashonly", "MD5", "", false}, // hash without sip_ha1: no SIP digest
		{"mallory", "MD5", "", false},
		{"alice", "SHA-512-256", "", false},
	} {
		if got, ok := a.HA1(c.user, c.alg); got != c.want || ok != c.ok {
			t.Errorf("HA1(%s, %s) = %q %v", c.user, c.alg, got, ok)
		}
	}
	// A plaintext password's HA1 is computed for the realm.
	want, _ := passhash.HA1(passhash.MD5, "bob", "flashvox", "bob-pass")
	if got, ok := a.HA1("bob", "MD5"); !ok || got != want {
		t.Fatalf("plaintext HA1 %q, want %q", got, want)
	}
	b := NewAuth(AuthOptions{Users: map[string]string{"bob": "bob-pass"}, Realm: "example.org"})
	want, _ = passhash.HA1(passhash.SHA256, "bob", "example.org", "bob-pass")
	if got, _ := b.HA1("bob", "SHA-256"); got != want {
		t.Fatalf("HA1 in realm example.org %q, want %q", got, want)
	}
}

// TestHashingIsBounded: with every slot taken a check waits, then answers
// ErrBusy without computing; freed, it runs. Many concurrent checks never
// hold more slots than MaxHashing.
func TestHashingIsBounded(t *testing.T) {
	a := NewAuth(AuthOptions{Accounts: []Account{hashed}, MaxHashing: 2})
	a.hashWait = 20 * time.Millisecond
	a.sem <- struct{}{}
	a.sem <- struct{}{}
	if err := a.Password("alice", "correct horse battery staple"); !errors.Is(err, ErrBusy) {
		t.Fatalf("all slots busy: %v", err)
	}
	if err := a.Password("nobody", "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("unknown user with all slots busy (the dummy hash needs a slot too): %v", err)
	}
	<-a.sem
	<-a.sem
	a.hashWait = time.Minute
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for range 8 {
		wg.Go(func() {
			if err := a.Password("alice", "wrong"); !errors.Is(err, ErrBadCredentials) {
				t.Error(err)
			}
			mu.Lock()
			peak = max(peak, len(a.sem))
			mu.Unlock()
		})
	}
	wg.Wait()
	if peak > 2 || len(a.sem) != 0 {
		t.Fatalf("slots: peak %d, left %d", peak, len(a.sem))
	}
}
