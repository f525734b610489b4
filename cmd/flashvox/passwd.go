package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/passhash"
)

// runPasswd prints the users: entry of a password: its argon2id hash and
// the SIP digest HA1s for the realm. The password is read from in (one
// line), or prompted for twice without echo when in is a terminal; never
// from the command line, where other users and the shell history see it.
func runPasswd(args []string, in io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user name (needed for the SIP HA1 values)")
	realm := fs.String("realm", "", "SIP digest realm (default: sip.realm of --config, else of the defaults)")
	cfgPath := fs.String("config", "", "configuration file to take sip.realm from")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "flashvox passwd: the password is read from standard input, not from arguments")
		return exitConfig
	}
	if *user != "" && !account.ValidUserName(*user) {
		fmt.Fprintf(stderr, "flashvox passwd: --user must be 1..64 characters of A-Z a-z 0-9 . _ @ -, got %q\n", *user)
		return exitConfig
	}
	if *realm == "" {
		r, err := configRealm(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "flashvox passwd: %v\n", err)
			return exitConfig
		}
		*realm = r
	}
	pw, err := readPassword(in, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flashvox passwd: %v\n", err)
		return exitConfig
	}
	hash := passhash.New(pw, passhash.Default).String()
	if *user == "" {
		fmt.Fprintf(stdout, "password_hash: %q\n", hash)
		fmt.Fprintln(stderr, "flashvox passwd: without --user there are no sip_ha1 values (SIP digest needs them)")
		return 0
	}
	md5, _ := passhash.HA1(passhash.MD5, *user, *realm, pw)
	sha, _ := passhash.HA1(passhash.SHA256, *user, *realm, pw)
	name, _ := yaml.Marshal(*user) // quoted when YAML would read it otherwise ("null", "@x")
	fmt.Fprintf(stdout, "- {name: %s, password_hash: %q, sip_ha1: %q, sip_ha1_sha256: %q}\n", strings.TrimSpace(string(name)), hash, md5, sha)
	return 0
}

// readPassword reads one line from in; on a terminal it prompts on stderr
// with echo off and asks twice.
func readPassword(in io.Reader, prompt io.Writer) (string, error) {
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		a, err := readNoEcho(f, prompt, "Password: ")
		if err == nil {
			var b string
			b, err = readNoEcho(f, prompt, "Again: ")
			if err == nil && a != b {
				err = errors.New("the two passwords differ")
			}
		}
		if err != nil {
			return "", err
		}
		return checkPassword(a)
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("empty password (give it on standard input: printf '%s\\n' PASSWORD | flashvox passwd --user NAME)")
	}
	return pw, nil
}

// configRealm is sip.realm of the defaults, overlaid by the file at path
// (if any) and FLASHVOX_SIP_REALM, without validating the rest (passwd is
// what fixes a config that does not validate yet).
func configRealm(path string) (string, error) {
	var f struct {
		SIP struct {
			Realm string `yaml:"realm"`
		} `yaml:"sip"`
	}
	if err := yaml.Unmarshal(config.Default(), &f); err != nil {
		return "", err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	if v := os.Getenv("FLASHVOX_SIP_REALM"); v != "" {
		f.SIP.Realm = v
	}
	return f.SIP.Realm, nil
}
