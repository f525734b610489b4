package sipbridge

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/store"
)

// TestPeerRegistrationsSurviveRestart: baresip registers as carol
// (once: regint 3600) with a bridge that keeps registrations in the store
// (SQLite, then a real PostgreSQL); the bridge stops and a new one starts
// on the same address with the same store. carol is online at once,
// without a new REGISTER, and web user bob's call to carol rings the
// baresip, which answers; each hears the other's tone.
func TestPeerRegistrationsSurviveRestart(t *testing.T) {
	t.Parallel() // waits on real-time calls: runs beside the other such tests (sipbridge is the longest package)
	t.Run("sqlite", func(t *testing.T) {
		testpeer.SkipShort(t, "baresip")
		registrationsSurviveRestart(t, openRegStore(t, store.URLForDataDir(t.TempDir())))
	})
	t.Run("postgres", func(t *testing.T) {
		registrationsSurviveRestart(t, openRegStore(t, testpeer.StartPostgres(t).URL))
	})
}

// regStore is a store.DB as the bridge's RegistrationStore (internal/app
// has the same adapter).
type regStore struct{ db *store.DB }

func (s regStore) SaveRegistrations(rs []Registration) error {
	out := make([]store.Registration, 0, len(rs))
	for _, r := range rs {
		out = append(out, store.Registration(r))
	}
	return s.db.SaveRegistrations(context.Background(), out)
}

func (s regStore) LoadRegistrations() ([]Registration, error) {
	rs, err := s.db.Registrations(context.Background())
	out := make([]Registration, 0, len(rs))
	for _, r := range rs {
		out = append(out, Registration(r))
	}
	return out, err
}

func openRegStore(t *testing.T, url string) regStore {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	return regStore{db: db}
}

func registrationsSurviveRestart(t *testing.T, st regStore) {
	e1 := startEnv(t, func(o *Options) { o.Registrations = st })
	addr := e1.bridge.Addr()
	b := testpeer.StartBaresip(t, 40*time.Second, testpeer.BaresipOptions{
		Account:   baresipAccount(addr, ";answermode=auto;regint=3600"),
		SourceWAV: carolMic(t), Seconds: 30,
	})
	testwait.For(t, 20*time.Second, "carol's registration", func() bool { return len(e1.bridge.Registered("carol")) == 1 })
	testwait.For(t, 5*time.Second, "carol's registration in the store", func() bool {
		rs, err := st.LoadRegistrations()
		return err == nil && len(rs) == 1 && rs[0].User == "carol" && time.Until(rs[0].Expires) > 50*time.Minute
	})
	e1.stop()
	// sipgo closes its UDP socket on its own goroutine after Close.
	testwait.For(t, 5*time.Second, "the SIP port released", func() bool {
		c, err := net.ListenPacket("udp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	e2 := startEnv(t, func(o *Options) { o.Registrations, o.Listen = st, addr })
	if got := e2.bridge.Registered("carol"); len(got) != 1 {
		t.Fatalf("after the restart carol's bindings are %v", got)
	}
	if p := e2.calls.Presence()["carol"]; p != "online" {
		t.Errorf("after the restart carol is %q", p)
	}
	bobCallsBaresip(t, e2.rtmpURL, codec.Nellymoser, 10*time.Second, "carol", b)
	if n := strings.Count(b.Output(), "200 OK ("); n != 1 {
		t.Errorf("baresip registered %d times, want once (no re-registration)\n%s", n, b.Output())
	}
}

// TestRegistrationsFile: expired bindings and unknown users are not
// restored, a binding longer than registration_max is cut to it, and
// the file is rewritten without them; a corrupt file is reported and
// replaced at the next change.
func TestRegistrationsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "regs.json")
	now := time.Now()
	f := regFile{Version: regFileVersion, Bindings: []regBinding{
		{User: "carol", URI: "sip:carol@127.0.0.1:5999", Transport: "udp", Source: "127.0.0.1:5999", Expires: now.Add(time.Hour)},
		{User: "bob", URI: "sip:bob@127.0.0.1:5998", Transport: "udp", Expires: now.Add(-time.Second)},
		{User: "mallory", URI: "sip:m@127.0.0.1:5997", Transport: "udp", Expires: now.Add(time.Hour)},
		{User: "alice", URI: "sip:alice@127.0.0.1:5996", Transport: "tcp", Expires: now.Add(48 * time.Hour)},
	}}
	if err := writeFileAtomic(file, &f); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, func(o *Options) { o.RegistrationsFile = file })
	if got := e.bridge.Registered("carol"); len(got) != 1 {
		t.Errorf("carol %v", got)
	}
	if got := append(e.bridge.Registered("bob"), e.bridge.Registered("mallory")...); len(got) != 0 {
		t.Errorf("restored %v", got)
	}
	if bd := e.bridge.userBindings("alice"); len(bd) != 1 || time.Until(bd[0].expires) > time.Hour+time.Minute {
		t.Errorf("alice's binding not cut to registration_max: %v", bd)
	}
	var back regFile
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &back); err != nil || len(back.Bindings) != 2 {
		t.Errorf("rewritten file: %v %s", err, data)
	}
	e.stop()

	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	e = startEnv(t, func(o *Options) { o.RegistrationsFile = file })
	if got := e.bridge.Registered("carol"); len(got) != 0 {
		t.Errorf("corrupt file restored %v", got)
	}
}
