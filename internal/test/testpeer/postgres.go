package testpeer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// Postgres is a throwaway PostgreSQL server: its own cluster in a
// temporary directory, on a free port of 127.0.0.1, run as the unprivileged
// "postgres" user (the server refuses to run as root), stopped and removed
// when the test ends. The Debian system cluster on 5432 is never used.
type Postgres struct {
	// URL is the superuser's URL of database "postgres" (trust auth, no TLS).
	URL  string
	Port int
	Dir  string
	proc *Proc
}

// postgresBin finds Debian's server binaries: /usr/lib/postgresql/N/bin,
// the highest N.
func postgresBin(t testing.TB) string {
	t.Helper()
	SkipShort(t, "postgresql")
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(dirs)
	if len(dirs) == 0 {
		t.Fatal("PostgreSQL is required for this test and is missing: apt-get install -y postgresql (or make deps)")
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

// StartPostgres initialises a cluster and starts its server; it is
// stopped (fast shutdown, by its PID) and its directory removed when the
// test ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := postgresBin(t)
	uid, gid, err := lookupUser("postgres")
	if err != nil {
		t.Fatalf("user postgres: %v (the postgresql package creates it: apt-get install -y postgresql)", err)
	}
	// Not t.TempDir: its parents are root's, mode 0700, closed to postgres.
	dir, err := os.MkdirTemp("", "flashvox-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	if err := runAs(initdb, uid, gid); err != nil {
		t.Fatalf("initdb: %v", err)
	}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg := &Postgres{Port: FreePort(t), Dir: dir}
	pg.proc = startAs(t, uid, gid, filepath.Join(bin, "postgres"), "-D", data, "-p", fmt.Sprint(pg.Port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off")
	// Not just the port: it accepts connections while it starts, only to
	// refuse them ("the database system is starting up").
	testwait.For(t, 30*time.Second, "PostgreSQL ready to accept connections", func() bool {
		return strings.Contains(pg.proc.Output(), "ready to accept connections")
	})
	pg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.Port)
	return pg
}

// Stop stops the server (fast shutdown) and waits for it.
func (p *Postgres) Stop() { p.proc.Stop() }

// startAs runs path as uid:gid, like Start (stopped with SIGINT, by PID,
// when the test ends; output kept for failure messages).
func startAs(t testing.TB, uid, gid int, path string, args ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := runAs(cmd, uid, gid); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", path, err)
	}
	p := &Proc{Name: filepath.Base(path), cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", p.Name, tail(out.String(), 4000))
		}
	})
	return p
}
