package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// flashvoxBin is the binary under test (testpeer.Flashvox).
func flashvoxBin(t *testing.T) string { return testpeer.Flashvox(t) }

// server is a flashvox process with its RTMP phone URL and HTTP API URL.
type server struct {
	phoneURL, api string
	logs          *testpeer.Buffer
	cmd           *exec.Cmd // the flashvox process (to signal it)
}

func startFlashvox(t *testing.T) *server { return startFlashvoxWith(t, nil) }

// startFlashvoxWith starts flashvox with extra environment (later keys win)
// and arguments (e.g. --config FILE). Its listeners bind port 0 and the
// addresses are read from its "listening" log lines: no port is picked by
// the test and freed for the child to take (a race with other processes).
func startFlashvoxWith(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(flashvoxBin(t), args...)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN=127.0.0.1:0", "FLASHVOX_HTTP_LISTEN=127.0.0.1:0", "FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_CALL_RING_TIMEOUT=1s")
	cmd.Env = append(cmd.Env, env...)
	logs := &testpeer.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	var rtmpAddr, httpAddr string
	testwait.For(t, 10*time.Second, "the server's listening lines", func() bool {
		rtmpAddr, httpAddr = listenAddr(logs.String(), "rtmp"), listenAddr(logs.String(), "http")
		return rtmpAddr != "" && httpAddr != ""
	})
	s := &server{phoneURL: "rtmp://" + rtmpAddr + "/phone", api: "http://" + httpAddr + "/api/v1", logs: logs, cmd: cmd}
	testwait.For(t, 10*time.Second, "/healthz", func() bool {
		res, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return s
}

// listenAddr finds the address component listens on in a text log
// ("msg=listening component=rtmp addr=127.0.0.1:34567"), or "".
func listenAddr(log, component string) string {
	_, rest, ok := strings.Cut(log, "msg=listening component="+component+" addr=")
	if !ok {
		return ""
	}
	addr, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(addr)
}

// httpUser is a party driven through the HTTP API.
type httpUser struct {
	t      *testing.T
	s      *server
	token  string
	cursor uint64
}

func (s *server) login(t *testing.T, user string) *httpUser {
	t.Helper()
	u := &httpUser{t: t, s: s}
	var out struct{ Token string }
	if code := u.do("POST", "/login", fmt.Sprintf(`{"user":%q,"password":%q}`, user, user), &out); code != 200 {
		t.Fatalf("login %s: %d", user, code)
	}
	u.token = out.Token
	var page struct{ Cursor uint64 }
	u.do("GET", "/events", "", &page)
	u.cursor = page.Cursor
	return u
}

func (u *httpUser) do(method, path, body string, out any) int {
	u.t.Helper()
	req, _ := http.NewRequest(method, u.s.api+path, strings.NewReader(body))
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

type apiEvent struct {
	Type, Call, Reason, By, From string
}

// waitOnline waits until u sees user online.
func (u *httpUser) waitOnline(user string, within time.Duration) {
	u.t.Helper()
	testwait.For(u.t, within, user+" online", func() bool {
		var p struct{ Users map[string]string }
		u.do("GET", "/presence", "", &p)
		return p.Users[user] == "online"
	})
}

// expect long-polls for the next non-presence event, which must be typ
// (or one of "a|b") and reason, if not empty, within `within`.
func (u *httpUser) expect(typ, reason string, within time.Duration) apiEvent {
	u.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var page struct {
			Cursor uint64
			Events []apiEvent
		}
		u.do("GET", fmt.Sprintf("/events?cursor=%d&wait=%s", u.cursor, time.Until(deadline).Round(time.Millisecond)), "", &page)
		for i, e := range page.Events {
			if e.Type == "presence" {
				continue
			}
			u.cursor = page.Cursor - uint64(len(page.Events)-i-1)
			if !slices.Contains(strings.Split(typ, "|"), e.Type) || (reason != "" && e.Reason != reason) {
				u.t.Fatalf("got %+v, want %s/%s", e, typ, reason)
			}
			return e
		}
		u.cursor = page.Cursor
	}
	u.t.Fatalf("no %s/%s within %v", typ, reason, within)
	return apiEvent{}
}

// phoneProc is a headless phone process.
type phoneProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func (s *server) phone(t *testing.T, user string, args ...string) *phoneProc {
	t.Helper()
	p := &phoneProc{done: make(chan struct{})}
	p.cmd = exec.Command(flashvoxBin(t), append([]string{"client", "--server", s.phoneURL, "--user", user, "--password", user}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// wait returns the exit code and output, failing after within.
func (p *phoneProc) wait(t *testing.T, within time.Duration) (int, string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("phone did not exit within %v: %s %s", within, p.stdout.String(), p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), p.stdout.String() + p.stderr.String()
}

func writeTone(t *testing.T, freq float64) string {
	p := filepath.Join(t.TempDir(), fmt.Sprintf("%v.wav", freq))
	if err := audiotest.WriteWAV(p, audiotest.Sine(16000, 16000, freq, 0.5), 16000); err != nil {
		t.Fatal(err)
	}
	return p
}

func toneLevels(t *testing.T, path string, a, b float64) (float64, float64, float64) {
	t.Helper()
	pcm, rate, err := audiotest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 16000 || len(pcm) < 3*rate {
		t.Fatalf("%s: %d samples at %d Hz", path, len(pcm), rate)
	}
	mid := pcm[rate : len(pcm)-rate/2]
	return audiotest.ToneDB(mid, rate, a), audiotest.ToneDB(mid, rate, b), float64(len(pcm)) / float64(rate)
}

// TestClientTwoPhonesProcesses: two `flashvox client` processes talk for
// 5 s through a flashvox process; alice sends 440 Hz, bob 880 Hz, and each
// recording holds the other's tone. Bob uses Nellymoser, alice Speex.
func TestClientTwoPhonesProcesses(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startFlashvox(t)
	dir := t.TempDir()
	aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	bob := s.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--record", bRec, "--codec", "nellymoser", "--timeout", "20s")
	carol := s.login(t, "carol") // watches presence to know bob is online
	carol.waitOnline("bob", 10*time.Second)
	alice := s.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--record", aRec, "--duration", "5s", "--codec", "speex", "--dtmf", "7")
	if code, out := alice.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("alice exit %d: %s", code, out)
	}
	code, out := bob.wait(t, 5*time.Second)
	if code != 0 || !strings.Contains(out, "DTMF 7") {
		t.Fatalf("bob exit %d: %s", code, out)
	}
	w, o, secs := toneLevels(t, bRec, 440, 880)
	t.Logf("bob heard %.1f s: 440 Hz %.1f dB, 880 Hz %.1f dB", secs, w, o)
	if w < -20 || w-o < 20 {
		t.Errorf("bob must hear 440 Hz")
	}
	w, o, secs = toneLevels(t, aRec, 880, 440)
	t.Logf("alice heard %.1f s: 880 Hz %.1f dB, 440 Hz %.1f dB", secs, w, o)
	if w < -20 || w-o < 20 {
		t.Errorf("alice must hear 880 Hz")
	}
}

// TestClientFailurePaths: a headless phone process against a party driven
// through the HTTP API; each ending reaches the other side within 2 s.
func TestClientFailurePaths(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startFlashvox(t)
	bob := s.login(t, "bob")

	t.Run("reject", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob")
		in := bob.expect("incoming", "", 5*time.Second)
		at := time.Now()
		bob.do("POST", "/calls/"+in.Call+"/reject", "", nil)
		code, out := alice.wait(t, 2*time.Second)
		if code != 1 || !strings.Contains(out, "rejected: rejected") {
			t.Fatalf("alice: %d %s", code, out)
		}
		t.Logf("reject reached the caller process's exit in %v", time.Since(at))
		bob.expect("rejected", "rejected", 2*time.Second)
	})
	t.Run("no answer", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob")
		bob.expect("incoming", "", 5*time.Second)
		bob.expect("cancelled", "no_answer", 2*time.Second) // ring_timeout 1s
		if code, out := alice.wait(t, 2*time.Second); code != 1 || !strings.Contains(out, "no_answer") {
			t.Fatalf("alice: %d %s", code, out)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob", "--timeout", "300ms")
		bob.expect("incoming", "", 5*time.Second)
		if e := bob.expect("cancelled", "cancelled", 2*time.Second); e.By != "alice" {
			t.Fatalf("%+v", e)
		}
		if code, _ := alice.wait(t, 2*time.Second); code != 1 {
			t.Fatalf("alice exit %d", code)
		}
	})
	t.Run("busy", func(t *testing.T) {
		bob.t = t
		carol := s.login(t, "carol")
		var inv struct{ Call string }
		carol.do("POST", "/calls", `{"to":"bob"}`, &inv)
		bob.expect("incoming", "", 2*time.Second)
		alice := s.phone(t, "alice", "call", "bob")
		if code, out := alice.wait(t, 5*time.Second); code != 1 || !strings.Contains(out, "rejected: busy") {
			t.Fatalf("alice: %d %s", code, out)
		}
		carol.do("POST", "/calls/"+inv.Call+"/hangup", "", nil)
		bob.expect("cancelled", "cancelled", 2*time.Second)
	})
	t.Run("hangup by callee", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob")
		in := bob.expect("incoming", "", 5*time.Second)
		bob.do("POST", "/calls/"+in.Call+"/accept", "", nil)
		bob.expect("accepted", "", 2*time.Second)
		bob.do("POST", "/calls/"+in.Call+"/hangup", "", nil)
		if code, out := alice.wait(t, 2*time.Second); code != 0 || !strings.Contains(out, "hangup by bob") {
			t.Fatalf("alice: %d %s", code, out)
		}
		bob.expect("bye", "hangup", 2*time.Second)
	})
	t.Run("hangup by caller", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob", "--duration", "500ms")
		in := bob.expect("incoming", "", 5*time.Second)
		bob.do("POST", "/calls/"+in.Call+"/accept", "", nil)
		bob.expect("accepted", "", 2*time.Second)
		if e := bob.expect("bye", "hangup", 3*time.Second); e.By != "alice" {
			t.Fatalf("%+v", e)
		}
		if code, out := alice.wait(t, 2*time.Second); code != 0 {
			t.Fatalf("alice: %d %s", code, out)
		}
	})
	t.Run("SIGKILL mid-call", func(t *testing.T) {
		bob.t = t
		alice := s.phone(t, "alice", "call", "bob")
		in := bob.expect("incoming", "", 5*time.Second)
		bob.do("POST", "/calls/"+in.Call+"/accept", "", nil)
		bob.expect("accepted", "", 2*time.Second)
		at := time.Now()
		alice.cmd.Process.Signal(syscall.SIGKILL)
		if e := bob.expect("bye", "gone", 2*time.Second); e.By != "alice" {
			t.Fatalf("%+v", e)
		}
		t.Logf("SIGKILL to bye on the other side: %v", time.Since(at))
	})
}
