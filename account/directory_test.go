package account

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
)

// memDirectory is a Directory in a map (package store is the real one).
type memDirectory struct {
	mu   sync.Mutex
	accs map[string]Account
	err  error
}

func (m *memDirectory) Account(name string) (Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return Account{}, m.err
	}
	a, ok := m.accs[name]
	if !ok {
		return Account{}, fmt.Errorf("%s: %w", name, ErrNoAccount)
	}
	return a, nil
}

func (m *memDirectory) set(f func(map[string]Account)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.accs)
}

type memLog struct{ got []Revocation }

func (l *memLog) Revoke(r Revocation) error { l.got = append(l.got, r); return nil }

// TestDirectory: accounts come from the directory at each check, so an
// account added or disabled later counts at once; a disabled account's
// tokens are refused; a failing directory fails the check.
func TestDirectory(t *testing.T) {
	dir := &memDirectory{accs: map[string]Account{"alice": hashed}}
	log := &memLog{}
	secret := []byte("0123456789abcdef")
	a := NewAuth(AuthOptions{Directory: dir, Revocations: log, Secret: secret,
		Users: map[string]string{"bob": "bob"}}) // ignored beside a directory
	tok, _, err := a.Login("alice", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Password("bob", "bob"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a configured user beside a directory: %v", err)
	}
	if h, ok := a.HA1("alice", passhash.MD5); !ok || h != hashed.HA1 {
		t.Fatalf("HA1 %q %v", h, ok)
	}
	h := passhash.New("pw", passhash.Default).String()
	dir.set(func(m map[string]Account) { m["carol"] = Account{Name: "carol", PasswordHash: h} })
	if err := a.Password("carol", "pw"); err != nil {
		t.Fatalf("an account added later: %v", err)
	}
	dir.set(func(m map[string]Account) { acc := m["alice"]; acc.Disabled = true; m["alice"] = acc })
	if err := a.Password("alice", "correct horse battery staple"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled, right password: %v", err)
	}
	if err := a.Password("alice", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled, wrong password: %v", err)
	}
	if _, err := a.Verify(tok); !errors.Is(err, ErrDisabled) {
		t.Fatalf("a disabled account's token: %v", err)
	}
	if _, ok := a.HA1("alice", passhash.MD5); ok {
		t.Fatal("a disabled account has an HA1")
	}
	if u, err := a.Verify(MintToken(secret, "siteuser", time.Now().Add(time.Hour))); err != nil || u != "siteuser" {
		t.Fatalf("a site-minted token of a user the directory does not know: %q %v", u, err)
	}
	dir.set(func(m map[string]Account) { acc := m["alice"]; acc.Disabled = false; m["alice"] = acc })
	if err := a.Revoke(tok); err != nil {
		t.Fatal(err)
	}
	if len(log.got) != 1 || log.got[0].User != "alice" || len(log.got[0].ID) != 64 {
		t.Fatalf("revocation log %+v", log.got)
	}
	// The next start revokes again what the log kept.
	b := NewAuth(AuthOptions{Directory: dir, Secret: secret, Revoked: log.got})
	if _, err := b.Verify(tok); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("a revoked token after a restart: %v", err)
	}
	dir.err = errors.New("connection refused")
	if err := b.Password("carol", "pw"); !errors.Is(err, ErrDirectory) {
		t.Fatalf("directory down: %v", err)
	}
}

// TestDisabledSessionsEnd: a disabled account's sessions end at the next
// RecheckSessions (disabled elsewhere) or at once (EndSessions), as a
// revocation; other users' sessions go on.
func TestDisabledSessionsEnd(t *testing.T) {
	dir := &memDirectory{accs: map[string]Account{"alice": hashed, "bob": {Name: "bob", PasswordHash: hashed.PasswordHash}}}
	secret := []byte("0123456789abcdef")
	a := NewAuth(AuthOptions{Directory: dir, Secret: secret})
	wa, err := a.Watch(MintToken(secret, "alice", time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := a.Watch(MintToken(secret, "bob", time.Now().Add(time.Hour)))
	if n := a.RecheckSessions(); n != 0 {
		t.Fatalf("ended %d with nobody disabled", n)
	}
	dir.set(func(m map[string]Account) { acc := m["alice"]; acc.Disabled = true; m["alice"] = acc })
	if n := a.RecheckSessions(); n != 1 {
		t.Fatalf("ended %d users", n)
	}
	select {
	case <-wa.Done():
	default:
		t.Fatal("the disabled user's session goes on")
	}
	if !errors.Is(wa.Err(), ErrTokenRevoked) || !errors.Is(wa.Err(), ErrDisabled) {
		t.Fatalf("reason %v", wa.Err())
	}
	select {
	case <-wb.Done():
		t.Fatal("another user's session ended")
	default:
	}
	a.EndSessions("bob")
	<-wb.Done()
	wa.Stop()
	wb.Stop()
}
