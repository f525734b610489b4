package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// passwdEntry runs `flashvox passwd args…` with input on stdin and parses
// the users: entry it prints.
func passwdEntry(t *testing.T, input string, args ...string) config.User {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runPasswd(args, strings.NewReader(input), &out, &errb); code != 0 {
		t.Fatalf("passwd %v: code %d: %s", args, code, errb.String())
	}
	var users []config.User
	if err := yaml.Unmarshal(out.Bytes(), &users); err != nil || len(users) != 1 {
		t.Fatalf("output is not one YAML list entry: %v\n%s", err, out.String())
	}
	return users[0]
}

func TestPasswd(t *testing.T) {
	u := passwdEntry(t, "correct horse battery staple\n", "--user", "alice")
	h, err := passhash.Parse(u.PasswordHash)
	if err != nil || !h.Verify("correct horse battery staple") || h.Params != passhash.Default {
		t.Fatalf("hash %q: %v", u.PasswordHash, err)
	}
	// coreutils md5sum/sha256sum of "alice:flashvox:correct horse battery staple".
	if u.Name != "alice" || u.SIPHA1 != "0c17af8690681b9e6f0206a494961e01" || u.SIPHA1SHA256 != "f436f10a2e19ad47cee51a1fefe67b87883429e92eacca1f775a212dda4f4434" {
		t.Fatalf("entry %+v", u)
	}
	// The printed line is a users: entry that may face the network.
	var out bytes.Buffer
	runPasswd([]string{"--user", "bob"}, strings.NewReader("s3cret\r\n"), &out, &bytes.Buffer{})
	p := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(p, []byte("users:\n  "+out.String()+"apps:\n  - {name: phone}\n"), 0o600)
	c, err := config.Load(p, []string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935"})
	if err != nil || c.Users[0].Name != "bob" {
		t.Fatalf("config with the printed entry: %v\n%s", err, out.String())
	}
	if h, _ := passhash.Parse(c.Users[0].PasswordHash); !h.Verify("s3cret") {
		t.Fatal("the CR of a CRLF line became part of the password")
	}
	// The realm: --realm, else sip.realm of --config.
	want, _ := passhash.HA1(passhash.MD5, "carol", "example.org", "pw")
	if u := passwdEntry(t, "pw", "--user", "carol", "--realm", "example.org"); u.SIPHA1 != want {
		t.Fatalf("--realm: %s", u.SIPHA1)
	}
	cfg := filepath.Join(t.TempDir(), "f.yaml")
	os.WriteFile(cfg, []byte("sip:\n  realm: example.org\nusers:\n  - {name: x, password: y}\n"), 0o600)
	if u := passwdEntry(t, "pw\n", "--user", "carol", "--config", cfg); u.SIPHA1 != want {
		t.Fatalf("realm from --config: %s", u.SIPHA1)
	}
	if u := passwdEntry(t, "pw\n", "--user", "null"); u.Name != "null" {
		t.Fatalf("a name YAML reads as null must be quoted: %+v", u)
	}
}

func TestPasswdRefuses(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		input string
		why   string
	}{
		{[]string{"--user", "alice", "hunter2"}, "", "not from arguments"},
		{[]string{"--user", "alice"}, "\n", "empty password"},
		{[]string{"--user", "alice"}, "", "empty password"},
		{[]string{"--user", "a b"}, "pw\n", "--user must be"},
	} {
		var errb bytes.Buffer
		if code := runPasswd(tc.args, strings.NewReader(tc.input), &bytes.Buffer{}, &errb); code != exitConfig || !strings.Contains(errb.String(), tc.why) {
			t.Errorf("%v %q: code %d %q", tc.args, tc.input, code, errb.String())
		}
	}
}

// TestPasswdCommand runs the binary with the password on a pipe.
func TestPasswdCommand(t *testing.T) {
	cmd := exec.Command(flashvoxBin(t), "passwd", "--user", "dave")
	cmd.Stdin = strings.NewReader("pa ss wörd\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var users []config.User
	if err := yaml.Unmarshal(out, &users); err != nil || len(users) != 1 || !strings.HasPrefix(string(out), "- {name: dave, password_hash: \"$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("%v: %s", err, out)
	}
	if h, _ := passhash.Parse(users[0].PasswordHash); !h.Verify("pa ss wörd") {
		t.Fatal("hash does not verify")
	}
}

// TestPasswdPromptsWithoutEcho runs `flashvox passwd` on a terminal (a pty
// made by util-linux's script): it prompts twice and the password typed is
// not echoed.
func TestPasswdPromptsWithoutEcho(t *testing.T) {
	script := testpeer.Require(t, "script")
	cmd := exec.Command(script, "-qec", flashvoxBin(t)+" passwd --user erin", "/dev/null")
	in, _ := cmd.StdinPipe()
	out := &testpeer.Buffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, prompt := range []string{"Password: ", "Again: "} {
		testwait.ForDetail(t, 10*time.Second, fmt.Sprintf("the %q prompt", prompt), func() bool { return strings.Contains(out.String(), prompt) }, out.String)
		in.Write([]byte("tty-secret-1\n"))
	}
	testwait.ForDetail(t, 10*time.Second, "the entry printed", func() bool { return strings.Contains(out.String(), "sip_ha1_sha256") }, out.String)
	got := out.String()
	if strings.Contains(got, "tty-secret-1") {
		t.Fatalf("the password was echoed: %q", got)
	}
	var users []config.User
	entry := got[strings.Index(got, "- {"):]
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(entry, "\r", "")), &users); err != nil || len(users) != 1 {
		t.Fatalf("%v: %q", err, got)
	}
	if h, _ := passhash.Parse(users[0].PasswordHash); !h.Verify("tty-secret-1") {
		t.Fatal("hash does not verify")
	}
}
