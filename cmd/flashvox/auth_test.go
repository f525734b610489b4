package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/rtmp"
)

// alicePassword is alice's password in authConfig, where it is hashed.
const alicePassword = "correct horse battery staple"

// authConfig writes a config file whose alice is hashed (bob and carol
// keep their demo passwords: the listeners are on loopback) plus extra.
func authConfig(t *testing.T, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flashvox.yaml")
	y := fmt.Sprintf("users:\n  - {name: alice, password_hash: %q}\n  - {name: bob, password: bob}\n  - {name: carol, password: carol}\n%s",
		passhash.New(alicePassword, passhash.Default).String(), extra)
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientFrom is an HTTP client whose connections come from ip (any
// 127.x.y.z reaches the server's 127.0.0.1 on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

// tryLogin posts a login and returns the status and Retry-After.
func tryLogin(t *testing.T, c *http.Client, api, user, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	res, err := c.Post(api+"/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestLoginGuessingSlowedPerAddress: an attacker at 127.0.0.2 guessing
// alice's password as fast as it can gets a few checks, then 429 with
// Retry-After; alice at 127.0.0.3 logs in meanwhile. Attackers spread over
// more addresses put the account under attack, which slows each of them
// after one failure, and still not alice.
func TestLoginGuessingSlowedPerAddress(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startFlashvoxWith(t, nil, "--config", authConfig(t, ""))
	attacker := clientFrom("127.0.0.2")
	var checked, refused int
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		code, retry := tryLogin(t, attacker, s.api, "alice", fmt.Sprintf("guess-%d", checked+refused))
		switch {
		case code == 401:
			checked++
		case code == 429 && retry != "":
			refused++
		default:
			t.Fatalf("guess answered %d (Retry-After %q)", code, retry)
		}
	}
	el := time.Since(start).Seconds()
	t.Logf("attacker 127.0.0.2 over HTTP: %d guesses checked, %d refused with 429 in %.1f s: %.1f checked guesses/s", checked, refused, el, float64(checked)/el)
	if checked > 8 || refused == 0 {
		t.Fatalf("the attacker's guesses were not slowed: %d checked, %d refused", checked, refused)
	}
	if code, _ := tryLogin(t, clientFrom("127.0.0.3"), s.api, "alice", alicePassword); code != 200 {
		t.Fatalf("alice from another address: %d", code)
	}
	// The right password from the attacker's address is refused unchecked.
	if code, _ := tryLogin(t, attacker, s.api, "alice", alicePassword); code != 429 {
		t.Fatalf("the attacker's address with the right password: %d", code)
	}

	// Spread: more addresses each guess until refused. Each gets its 5
	// free failures until the account has 20 from all of them; from then
	// on every address that fails on alice waits after its first failure.
	var perAddr []int
	for i := 10; i < 16; i++ {
		c := clientFrom(fmt.Sprintf("127.0.0.%d", i))
		n := 0
		for ; n <= 6; n++ {
			if code, _ := tryLogin(t, c, s.api, "alice", fmt.Sprintf("spread-%d-%d", i, n)); code == 429 {
				break
			}
		}
		perAddr = append(perAddr, n)
	}
	t.Logf("spread attack: guesses checked per address before 429: %v", perAddr)
	if perAddr[0] > 6 || perAddr[len(perAddr)-1] != 1 {
		t.Fatalf("spread attack not slowed per account: %v", perAddr)
	}
	if code, _ := tryLogin(t, clientFrom("127.0.0.3"), s.api, "alice", alicePassword); code != 200 {
		t.Fatalf("alice during a spread attack: %d", code)
	}
}

// TestHTTPSListener: http.tls_listen serves the API, the page and /healthz
// over TLS, and a SIGHUP makes it serve the renewed certificate.
func TestHTTPSListener(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlscert.WriteFiles(cert, key, []string{"localhost", "127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := startFlashvoxWith(t, []string{"FLASHVOX_HTTP_TLS_LISTEN=" + addr, "FLASHVOX_HTTP_TLS_CERT=" + cert, "FLASHVOX_HTTP_TLS_KEY=" + key})
	client := func() *http.Client {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(cert)
		pool.AppendCertsFromPEM(pem)
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	base := "https://" + addr
	first := servedCert(t, client(), base)
	for _, path := range []string{"/healthz", "/"} {
		res, err := client().Get(base + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s over TLS: %v %v", path, res, err)
		}
		res.Body.Close()
	}
	if code, _ := tryLogin(t, client(), base+"/api/v1", "bob", "bob"); code != 200 {
		t.Fatalf("login over TLS: %d", code)
	}
	if err := tlscert.WriteFiles(cert, key, []string{"localhost", "127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 15*time.Second, "the new certificate served after SIGHUP", func() bool { return !servedCert(t, client(), base).Equal(first) })
	// The new pair is served before the reload's log line is written.
	testwait.For(t, 15*time.Second, "the reload logged", func() bool { return strings.Contains(s.logs.String(), "key=http.tls_cert") })
}

// servedCert is the certificate the server presents (the client trusts
// the current file, so an old one fails verification: it then returns the
// old one unverified).
func servedCert(t *testing.T, c *http.Client, base string) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestPeerHTTPSCurl: curl logs in over http.tls_listen, verifying the
// certificate `flashvox cert` wrote.
func TestPeerHTTPSCurl(t *testing.T) {
	testpeer.SkipShort(t, "real peer")
	curl := testpeer.Require(t, "curl")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if code := run([]string{"cert", "--host", "127.0.0.1", "--cert", cert, "--key", key}, &strings.Builder{}, &strings.Builder{}); code != 0 {
		t.Fatal("flashvox cert failed")
	}
	addr := freeAddr(t)
	startFlashvoxWith(t, []string{"FLASHVOX_HTTP_TLS_LISTEN=" + addr, "FLASHVOX_HTTP_TLS_CERT=" + cert, "FLASHVOX_HTTP_TLS_KEY=" + key})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := execOutput(ctx, curl, "-sS", "--fail", "--cacert", cert, "-H", "Content-Type: application/json",
		"-d", `{"user":"bob","password":"bob"}`, "https://"+addr+"/api/v1/login")
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	var login struct{ Token, User string }
	if err := json.Unmarshal(out, &login); err != nil || login.User != "bob" || !strings.HasPrefix(login.Token, "v1.bob.") {
		t.Fatalf("login over HTTPS: %v %s", err, out)
	}
	out, err = execOutput(ctx, curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", cert, "-X", "DELETE",
		"-H", "Authorization: Bearer "+login.Token, "https://"+addr+"/api/v1/session")
	if err != nil || string(out) != "204" {
		t.Fatalf("logout over HTTPS: %v %s", err, out)
	}
}

// TestLogsRedactSecrets: with debug logging, nothing the server logs
// contains a password or token a client sent, right or wrong, over HTTP
// and RTMP.
func TestLogsRedactSecrets(t *testing.T) {
	s := startFlashvoxWith(t, []string{"FLASHVOX_LOG_LEVEL=debug"}, "--config", authConfig(t, ""))
	secrets := []string{alicePassword, "wrong-Pass-1", "wrong pass in the user field"}
	tryLogin(t, http.DefaultClient, s.api, "alice", "wrong-Pass-1")
	tryLogin(t, http.DefaultClient, s.api, "wrong pass in the user field", "x")
	tok := s.loginAs(t, "alice", alicePassword)
	forged := tok[:len(tok)-4] + "beef"
	secrets = append(secrets, tok, tok[strings.LastIndexByte(tok, '.')+1:], forged[strings.LastIndexByte(forged, '.')+1:])
	for _, bearer := range []string{tok, forged, "garbage-token-xyz"} {
		req, _ := http.NewRequest("GET", s.api+"/presence", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	secrets = append(secrets, "garbage-token-xyz")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, args := range [][]any{{"alice", alicePassword}, {"alice", "wrong-Pass-1"}, {"alice", tok}, {"alice", forged}} {
		if c, err := rtmp.Dial(ctx, s.phoneURL, rtmp.ClientOptions{ConnectArgs: args}); err == nil {
			c.Close()
		}
	}
	sipURL := strings.Replace(s.phoneURL, "/phone", "/sip/alice@127.0.0.1", 1)
	for _, args := range [][]any{{"alice", tok}, {"alice", "wrong-Pass-1"}} {
		if c, err := rtmp.Dial(ctx, sipURL, rtmp.ClientOptions{ConnectArgs: args}); err == nil {
			c.Close()
		}
	}
	req, _ := http.NewRequest("DELETE", s.api+"/session", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	testwait.For(t, 10*time.Second, "the logout logged", func() bool { return strings.Contains(s.logs.String(), "logged out") })
	logs := s.logs.String()
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("the log shows %q:\n%s", sec, logs)
		}
	}
	if !strings.Contains(logs, "login refused") || !strings.Contains(logs, `user=(invalid)`) {
		t.Errorf("refusals are still logged, without the secret:\n%s", logs)
	}
}

// loginAs logs user in over the API and returns the token.
func (s *server) loginAs(t *testing.T, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	res, err := http.Post(s.api+"/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if json.NewDecoder(res.Body).Decode(&out); out.Token == "" {
		t.Fatalf("login %s: %d", user, res.StatusCode)
	}
	return out.Token
}

// execOutput runs bin and returns its standard output.
func execOutput(ctx context.Context, bin string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, bin, args...).Output()
}
