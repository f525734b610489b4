package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// openSQLiteTest opens a fresh SQLite file in a temporary directory.
func openSQLiteTest(t *testing.T) (*DB, string) {
	t.Helper()
	url := URLForDataDir(t.TempDir())
	return openTest(t, url), url
}

// openPostgresTest starts a throwaway PostgreSQL server.
func openPostgresTest(t *testing.T) (*DB, string) {
	t.Helper()
	pg := testpeer.StartPostgres(t)
	return openTest(t, pg.URL), pg.URL
}

func openTest(t *testing.T, url string) *DB {
	t.Helper()
	d, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// engines runs each behaviour test on SQLite, and on PostgreSQL in a
// TestPeer… test (suite).
var behaviours = []struct {
	name string
	f    func(t *testing.T, d *DB, url string)
}{
	{"migrations", testMigrations},
	{"users", testUsers},
	{"secret", testSecret},
	{"revoked", testRevoked},
	{"registrations", testRegistrations},
	{"cdr", testCDR},
	{"records", testRecords},
	{"contacts", testContacts},
	{"samples", testSamples},
	{"leases", testLeases},
}

func TestSQLite(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			d, url := openSQLiteTest(t)
			b.f(t, d, url)
		})
	}
}

// TestPeerPostgres runs the same behaviours on one real PostgreSQL server,
// each in a fresh schema of its own.
func TestPeerPostgres(t *testing.T) {
	pg := testpeer.StartPostgres(t)
	admin := openTest(t, pg.URL)
	for _, b := range behaviours {
		t.Run(b.name, func(t *testing.T) {
			if _, err := admin.db.Exec(`CREATE DATABASE ` + b.name); err != nil {
				t.Fatal(err)
			}
			url := pgDatabase(pg.URL, b.name)
			b.f(t, openTest(t, url), url)
		})
	}
}

// pgDatabase is url with another database name.
func pgDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func testMigrations(t *testing.T, d *DB, url string) {
	ctx := context.Background()
	if v, err := d.Version(ctx); err != nil || v != 0 {
		t.Fatalf("empty database: version %d %v", v, err)
	}
	if _, _, err := d.Check(ctx); !errors.Is(err, ErrSchemaOld) {
		t.Fatalf("check of an empty database: %v", err)
	}
	// The previous schema version first, with data in it, then the rest.
	prev := Latest() - 1
	if prev > 0 {
		if _, err := d.Migrate(ctx, prev); err != nil {
			t.Fatal(err)
		}
		if v, _ := d.Version(ctx); v != prev {
			t.Fatalf("version %d, want %d", v, prev)
		}
		if err := d.AddUser(ctx, User{Name: "old", PasswordHash: "h", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		// A call record as the previous version wrote it (its columns only).
		if _, err := d.db.Exec(`INSERT INTO cdr (id, caller, callee, started_ms, ended_ms, end_event) VALUES ('old', 'a', 'b', 1000, 2000, 'bye')`); err != nil {
			t.Fatal(err)
		}
	}
	done, err := d.Migrate(ctx, 0)
	if err != nil || len(done) != Latest()-max(prev, 0) {
		t.Fatalf("migrate: %v, applied %d", err, len(done))
	}
	if prev > 0 {
		if u, err := d.User(ctx, "old"); err != nil || !u.Enabled {
			t.Fatalf("a user of the previous version: %+v %v", u, err)
		}
		cs, err := d.CDRs(ctx, CDRFilter{})
		if err != nil || len(cs) != 1 || cs[0].ID != "old" || cs[0].CallerBytes != nil || cs[0].LossPct != nil || cs[0].Recording != "" {
			t.Fatalf("a record of the previous version: %+v %v", cs, err)
		}
	}
	if have, want, err := d.Check(ctx); err != nil || have != want {
		t.Fatalf("check: %d %d %v", have, want, err)
	}
	if done, err := d.Migrate(ctx, 0); err != nil || len(done) != 0 {
		t.Fatalf("second migrate: %v %d", err, len(done))
	}
	// A database a newer flashvox migrated is refused.
	if _, err := d.db.Exec(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, 'future', 0)`, Latest()+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Check(ctx); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("newer schema: %v", err)
	}
	if _, err := d.Migrate(ctx, 0); !errors.Is(err, ErrSchemaNewer) {
		t.Fatalf("migrate of a newer schema: %v", err)
	}
}

// migrated is a store at the latest schema.
func migrated(t *testing.T, d *DB) context.Context {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func testUsers(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	seed := []User{{Name: "alice", PasswordHash: "ha", HA1: "m", HA1SHA256: "s", Role: RoleAdmin, Enabled: true}, {Name: "bob", PasswordHash: "hb", Enabled: true}}
	if ok, err := d.Seed(ctx, seed); err != nil || !ok {
		t.Fatalf("seed: %v %v", ok, err)
	}
	if ok, err := d.Seed(ctx, []User{{Name: "carol", PasswordHash: "x"}}); err != nil || ok {
		t.Fatalf("second seed: %v %v", ok, err)
	}
	if err := d.AddUser(ctx, User{Name: "alice", PasswordHash: "x"}); !errors.Is(err, ErrExists) {
		t.Fatalf("add existing: %v", err)
	}
	if err := d.AddUser(ctx, User{Name: "dave", PasswordHash: "hd", Role: "root"}); err == nil {
		t.Fatal("a bad role was accepted")
	}
	if err := d.AddUser(ctx, User{Name: "dave", PasswordHash: "hd", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetPassword(ctx, "dave", "hd2", "m2", "s2"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetEnabled(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRole(ctx, "bob", RoleModerator); err != nil {
		t.Fatal(err)
	}
	if err := d.SetEnabled(ctx, "nobody", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable unknown: %v", err)
	}
	if _, err := d.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	us, err := d.Users(ctx)
	if err != nil || len(us) != 3 {
		t.Fatalf("users: %+v %v", us, err)
	}
	a, b, dv := us[0], us[1], us[2]
	if a.Name != "alice" || a.Role != RoleAdmin || !a.Enabled || a.HA1 != "m" || a.HA1SHA256 != "s" || a.Created.IsZero() {
		t.Errorf("alice %+v", a)
	}
	if b.Enabled || b.Role != RoleModerator {
		t.Errorf("bob %+v", b)
	}
	if dv.PasswordHash != "hd2" || dv.HA1 != "m2" || dv.Role != RoleUser {
		t.Errorf("dave %+v", dv)
	}
}

func testSecret(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	s1, err := d.Secret(ctx)
	if err != nil || len(s1) != secretLen {
		t.Fatalf("secret %x %v", s1, err)
	}
	d2 := openTest(t, url) // another process, or the next start
	s2, err := d2.Secret(ctx)
	if err != nil || string(s1) != string(s2) {
		t.Fatalf("the secret changed: %x %x %v", s1, s2, err)
	}
}

func testRevoked(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	now := time.Now()
	for _, r := range []Revoked{{"a1", "alice", now.Add(time.Hour)}, {"a1", "alice", now.Add(time.Hour)}, {"b1", "bob", now.Add(-time.Second)}} {
		if err := d.Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := d.RevokedTokens(ctx)
	if err != nil || len(rs) != 1 || rs[0].ID != "a1" || rs[0].User != "alice" || rs[0].Expires.UnixMilli() != now.Add(time.Hour).UnixMilli() {
		t.Fatalf("revoked %+v %v", rs, err)
	}
	var n int
	if err := d.db.QueryRow(`SELECT COUNT(*) FROM revoked_tokens`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("expired revocations kept: %d %v", n, err)
	}
}

func testRegistrations(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	now := time.Now()
	rs := []Registration{
		{User: "carol", URI: "sip:carol@127.0.0.1:5999", Transport: "udp", Source: "127.0.0.1:5999", Expires: now.Add(time.Hour)},
		{User: "bob", URI: "sip:bob@127.0.0.1:5998", Transport: "tcp", Expires: now.Add(-time.Second)},
	}
	if err := d.SaveRegistrations(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveRegistrations(ctx, rs); err != nil { // replaced, not added
		t.Fatal(err)
	}
	got, err := d.Registrations(ctx)
	if err != nil || len(got) != 1 || got[0].User != "carol" || got[0].Source != "127.0.0.1:5999" || got[0].Transport != "udp" {
		t.Fatalf("registrations %+v %v", got, err)
	}
	if err := d.SaveRegistrations(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Registrations(ctx); len(got) != 0 {
		t.Fatalf("after clearing: %+v", got)
	}
}

func TestOpenRefusesUnknownURLs(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "/var/lib/flashvox.db", "sqlite:"} {
		if _, err := Open(context.Background(), u); err == nil {
			t.Errorf("%q opened", u)
		}
	}
	if got := Redact("postgres://u:secret@h:5432/db"); got != "postgres://u:xxxxx@h:5432/db" {
		t.Errorf("redact %q", got)
	}
	dir := t.TempDir()
	openTest(t, URLForDataDir(dir))
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v %v, want mode 0600", fi, err)
	}
}

func testCDR(t *testing.T, d *DB, url string) {
	ctx := migrated(t, d)
	t0 := time.Unix(1_700_000_000, 0)
	var cs []CDR
	for i := range 5 {
		start := t0.Add(time.Duration(i) * time.Minute)
		c := CDR{ID: fmt.Sprintf("c%d", i), Caller: "alice", Callee: "bob", CallerTransport: "rtmp", CalleeTransport: "sip", CalleeCodec: "pcmu",
			Mode: "relay", Started: start, Answered: start.Add(time.Second), Ended: start.Add(31 * time.Second), EndEvent: "bye", Reason: "hangup", EndedBy: "bob"}
		if i == 0 {
			c.CallerBytes, c.CalleeBytes, c.LossPct, c.JitterMS, c.Recording = ptr[int64](16000), ptr[int64](8000), ptr(1.5), ptr(20.25), "rec/c0.flv"
		}
		if i == 4 {
			c.Caller, c.Callee, c.Answered, c.CalleeTransport, c.Mode, c.EndEvent, c.Reason = "carol", "dave", time.Time{}, "", "", "canceled", "hangup"
		}
		cs = append(cs, c)
	}
	if err := d.AddCDRs(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := d.AddCDRs(ctx, cs[:1]); err != nil { // again: kept once
		t.Fatal(err)
	}
	all, err := d.CDRs(ctx, CDRFilter{})
	if err != nil || len(all) != 5 || all[0].ID != "c4" || all[4].ID != "c0" {
		t.Fatalf("all: %+v %v", all, err)
	}
	if got := all[4]; got.ID != cs[0].ID || !got.Started.Equal(cs[0].Started) || !got.Ended.Equal(cs[0].Ended) || got.Duration() != 30*time.Second ||
		got.CalleeCodec != "pcmu" || got.CalleeTransport != "sip" || got.Reason != "hangup" || got.EndedBy != "bob" || got.Mode != "relay" ||
		*got.CallerBytes != 16000 || *got.CalleeBytes != 8000 || *got.LossPct != 1.5 || *got.JitterMS != 20.25 || got.Recording != "rec/c0.flv" {
		t.Errorf("round trip %+v, want %+v", got, cs[0])
	}
	if all[0].Duration() != 0 || !all[0].Answered.IsZero() || all[0].CallerBytes != nil || all[0].JitterMS != nil {
		t.Errorf("unanswered %+v", all[0])
	}
	page, _ := d.CDRs(ctx, CDRFilter{User: "bob", Limit: 2, Offset: 1})
	if len(page) != 2 || page[0].ID != "c2" || page[1].ID != "c1" {
		t.Errorf("bob's second page %+v", page)
	}
	win, _ := d.CDRs(ctx, CDRFilter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)})
	if len(win) != 2 || win[0].ID != "c2" {
		t.Errorf("time window %+v", win)
	}
	if dv, _ := d.CDRs(ctx, CDRFilter{User: "dave"}); len(dv) != 1 || dv[0].Caller != "carol" {
		t.Errorf("dave %+v", dv)
	}
}

// copyScenario fills src, copies it to dst and checks dst has it all.
func copyScenario(t *testing.T, src, dst *DB) {
	ctx := migrated(t, src)
	migrated(t, dst)
	now := time.Now()
	if err := src.AddUser(ctx, User{Name: "alice", PasswordHash: "h", HA1: "m", Role: RoleAdmin, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	secret, _ := src.Secret(ctx)
	_ = src.Revoke(ctx, Revoked{ID: "ab", User: "alice", Expires: now.Add(time.Hour)})
	_ = src.SaveRegistrations(ctx, []Registration{{User: "alice", URI: "sip:a@h", Transport: "udp", Expires: now.Add(time.Hour)}})
	_ = src.AddCDRs(ctx, []CDR{{ID: "c1", Caller: "alice", Callee: "bob", Started: now, Ended: now.Add(time.Second), EndEvent: "bye"}})
	_ = src.AddMemberships(ctx, []Membership{{ID: "m1", Room: "r", Member: "alice", Joined: now, Left: now}})
	_ = src.AddSIPLegs(ctx, []SIPLeg{{ID: "l1", Peer: "trunk", Started: now, Ended: now}})
	_ = src.AddWebRTCSessions(ctx, []WebRTCSession{{ID: "w1", CallID: "c1", Stream: "phone/alice-1", Direction: "whip", Started: now, Ended: now, LossOutPct: ptr(1.5)}})
	_ = src.SetContacts(ctx, "alice", []string{"bob"})
	n, err := Copy(ctx, src, dst)
	if err != nil || n != (Copied{Users: 1, Revoked: 1, Registrations: 1, CDRs: 1, Memberships: 1, SIPLegs: 1, ContactLists: 1, WebRTCSessions: 1}) {
		t.Fatalf("copy: %+v %v", n, err)
	}
	if s2, _ := dst.Secret(ctx); string(s2) != string(secret) {
		t.Error("the token secret was not copied")
	}
	if u, err := dst.User(ctx, "alice"); err != nil || u.Role != RoleAdmin || u.HA1 != "m" || u.Created.IsZero() {
		t.Errorf("user %+v %v", u, err)
	}
	if cs, _ := dst.CDRs(ctx, CDRFilter{}); len(cs) != 1 {
		t.Errorf("cdrs %+v", cs)
	}
	if l, set, _ := dst.Contacts(ctx, "alice"); !set || len(l) != 1 || l[0] != "bob" {
		t.Errorf("contacts %v %v", l, set)
	}
	if _, err := Copy(ctx, src, dst); err == nil {
		t.Error("a copy into a store with users was not refused")
	}
}

func TestCopySQLiteToSQLite(t *testing.T) {
	a, _ := openSQLiteTest(t)
	b, _ := openSQLiteTest(t)
	copyScenario(t, a, b)
}

// TestPeerCopySQLiteToPostgres: the move docs/OPERATIONS.md describes.
func TestPeerCopySQLiteToPostgres(t *testing.T) {
	a, _ := openSQLiteTest(t)
	b, _ := openPostgresTest(t)
	copyScenario(t, a, b)
}
