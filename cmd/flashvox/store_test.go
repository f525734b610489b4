package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/store"
)

// TestStoreAccountsSurviveRestart: with data_dir (SQLite) the demo users
// seed the store; `flashvox user add` adds dave to the running server; he
// signs in over HTTP and RTMP; after a restart his token still works and
// the one he logged out stays revoked; `flashvox user disable` ends him.
func TestStoreAccountsSurviveRestart(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	storeAccountsScenario(t, []string{"FLASHVOX_DATA_DIR=" + t.TempDir()})
}

// TestPeerPostgresAccountsSurviveRestart: the same on PostgreSQL.
func TestPeerPostgresAccountsSurviveRestart(t *testing.T) {
	pg := testpeer.StartPostgres(t)
	storeAccountsScenario(t, []string{"FLASHVOX_DATABASE_URL=" + pg.URL})
}

// flashvoxCLI runs a flashvox subcommand with env and stdin; it returns
// the combined output and the exit code.
func flashvoxCLI(t *testing.T, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, flashvoxBin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// bearerStatus is the status of GET /api/v1/presence with token.
func bearerStatus(t *testing.T, s *server, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.api+"/presence", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// rtmpConnects reports whether the phone application accepts a connect
// with (user, secret): a password or a token.
func rtmpConnects(t *testing.T, s *server, user, secret string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, s.phoneURL, rtmp.ClientOptions{ConnectArgs: []any{user, secret}})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stopServer ends s with SIGTERM and waits for it.
func stopServer(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, s.logs.String())
	}
}

func storeAccountsScenario(t *testing.T, env []string) {
	const pw = "dave's long secret"
	s := startFlashvoxWith(t, env)
	if tok := s.loginAs(t, "alice", "alice"); tok == "" { // seeded from users:
		t.Fatal("no token")
	}
	if out, code := flashvoxCLI(t, env, pw+"\n", "user", "add", "dave", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	if out, code := flashvoxCLI(t, env, "", "user", "add", "dave", pw); code == 0 || !strings.Contains(out, "usage") {
		t.Fatalf("a password as an argument was accepted: %d %s", code, out)
	}
	tok := s.loginAs(t, "dave", pw) // the running server sees the new account
	loggedOut := s.loginAs(t, "dave", pw)
	req, _ := http.NewRequest("DELETE", s.api+"/session", nil)
	req.Header.Set("Authorization", "Bearer "+loggedOut)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 204 {
		t.Fatalf("logout: %v %v", res, err)
	}
	if !rtmpConnects(t, s, "dave", pw) || !rtmpConnects(t, s, "dave", tok) || rtmpConnects(t, s, "dave", "wrong") {
		t.Fatal("RTMP connect with dave's password and token")
	}
	stopServer(t, s)

	s = startFlashvoxWith(t, env)
	if code := bearerStatus(t, s, tok); code != 200 {
		t.Fatalf("dave's token after the restart: %d", code)
	}
	if code := bearerStatus(t, s, loggedOut); code != 401 {
		t.Fatalf("the logged-out token after the restart: %d", code)
	}
	if !rtmpConnects(t, s, "dave", tok) {
		t.Fatal("RTMP connect with dave's token after the restart")
	}
	out, code := flashvoxCLI(t, env, "", "user", "list")
	if code != 0 || !strings.Contains(out, "dave") || !strings.Contains(out, "admin") || !strings.Contains(out, "alice") {
		t.Fatalf("user list: %d\n%s", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	live, err := rtmp.Dial(ctx, s.phoneURL, rtmp.ClientOptions{ConnectArgs: []any{"dave", tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if out, code := flashvoxCLI(t, env, "", "user", "disable", "dave"); code != 0 {
		t.Fatalf("user disable: %d %s", code, out)
	}
	disabled := time.Now()
	select { // the server rechecks the open sessions' accounts every 5 s
	case <-live.Done():
		t.Logf("dave's open phone connection ended %.1f s after the disable", time.Since(disabled).Seconds())
	case <-time.After(10 * time.Second):
		t.Fatal("a disabled user's open phone connection is still open after 10 s")
	}
	if code := bearerStatus(t, s, tok); code != 403 {
		t.Fatalf("a disabled user's token: %d", code)
	}
	if code, _ := tryLogin(t, http.DefaultClient, s.api, "dave", pw); code != 403 {
		t.Fatalf("a disabled user's login: %d", code)
	}
	if rtmpConnects(t, s, "dave", pw) {
		t.Fatal("a disabled user connected over RTMP")
	}
	if out, code := flashvoxCLI(t, env, "", "db", "check"); code != 0 {
		t.Fatalf("db check: %d %s", code, out)
	}
}

// TestStoreMigratesPreviousSchema: a store left at the previous schema
// version (with a user in it) is migrated at start, and the user signs in.
func TestStoreMigratesPreviousSchema(t *testing.T) {
	dir := t.TempDir()
	previousSchemaScenario(t, store.URLForDataDir(dir), []string{"FLASHVOX_DATA_DIR=" + dir})
}

// TestPeerPostgresMigratesPreviousSchema: the same on PostgreSQL.
func TestPeerPostgresMigratesPreviousSchema(t *testing.T) {
	url := testpeer.StartPostgres(t).URL
	previousSchemaScenario(t, url, []string{"FLASHVOX_DATABASE_URL=" + url})
}

func previousSchemaScenario(t *testing.T, url string, env []string) {
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, store.Latest()-1); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(ctx, store.User{Name: "erin", PasswordHash: passhash.New("erin's pw", passhash.Default).String(), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out, code := flashvoxCLI(t, env, "", "db", "check"); code != 1 || !strings.Contains(out, "older") {
		t.Fatalf("db check of the previous version: %d %s", code, out)
	}
	s := startFlashvoxWith(t, env)
	if !strings.Contains(s.logs.String(), fmt.Sprintf("schema migrated\" version=%d", store.Latest())) {
		t.Errorf("no migration logged:\n%s", s.logs.String())
	}
	s.loginAs(t, "erin", "erin's pw")
	if out, code := flashvoxCLI(t, env, "", "db", "check"); code != 0 {
		t.Fatalf("db check after the start: %d %s", code, out)
	}
}

// TestPeerPostgresMoveFromSQLite: the move docs/OPERATIONS.md describes.
// A server on SQLite with a user and a token stops; `flashvox db copy`
// copies the store into an empty PostgreSQL; the server started on it
// accepts the user's password and the token issued before the move.
func TestPeerPostgresMoveFromSQLite(t *testing.T) {
	const pw = "frank's long secret"
	lite := []string{"FLASHVOX_DATA_DIR=" + t.TempDir()}
	s := startFlashvoxWith(t, lite)
	if out, code := flashvoxCLI(t, lite, pw+"\n", "user", "add", "frank"); code != 0 {
		t.Fatalf("user add: %d %s", code, out)
	}
	tok := s.loginAs(t, "frank", pw)
	stopServer(t, s)
	pg := testpeer.StartPostgres(t)
	out, code := flashvoxCLI(t, lite, "", "db", "copy", "--to", pg.URL)
	if code != 0 || !strings.Contains(out, "4 users") {
		t.Fatalf("db copy: %d %s", code, out)
	}
	if out, code := flashvoxCLI(t, lite, "", "db", "copy", "--to", pg.URL); code == 0 {
		t.Fatalf("a second copy into a full database: %s", out)
	}
	s = startFlashvoxWith(t, []string{"FLASHVOX_DATABASE_URL=" + pg.URL})
	if code := bearerStatus(t, s, tok); code != 200 {
		t.Fatalf("the token from before the move: %d", code)
	}
	s.loginAs(t, "frank", pw)
}
