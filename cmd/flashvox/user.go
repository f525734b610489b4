package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/store"
)

const userUsage = `usage:
  flashvox user add NAME [--role admin|moderator|user] [--config F]   password on stdin or prompted (never an argument)
  flashvox user passwd NAME [--config F]                               new password on stdin or prompted
  flashvox user disable|enable NAME [--config F]
  flashvox user role NAME admin|moderator|user [--config F]
  flashvox user list [--config F]
The accounts are in the store of data_dir / database.url; a running server sees changes at once.
`

// runUser manages the store's accounts. The password is read from in
// like `flashvox passwd` reads it: one line, or prompted twice without
// echo on a terminal; never from the command line.
func runUser(args []string, in io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (data_dir, database.url, sip.realm)")
	role := fs.String("role", "user", "role of a new user: admin, moderator or user")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) == 0 {
		fmt.Fprint(stderr, userUsage)
		return exitConfig
	}
	cfg, db, code := openStoreCLI("user", *cfgPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = userCommand(ctx, db, cfg, pos, *role, in, stdout, stderr)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprint(stderr, userUsage)
		return exitConfig
	case err != nil:
		fmt.Fprintf(stderr, "flashvox user: %v\n", err)
		return exitFail
	}
	return 0
}

var errUsage = errors.New("usage")

func userCommand(ctx context.Context, db *store.DB, cfg *config.Config, pos []string, role string, in io.Reader, stdout, stderr io.Writer) error {
	cmd, names := pos[0], pos[1:]
	if cmd == "list" {
		return listUsers(ctx, db, stdout)
	}
	if len(names) == 0 || (cmd != "role" && len(names) != 1) || (cmd == "role" && len(names) != 2) {
		return errUsage
	}
	name := names[0]
	if !account.ValidUserName(name) {
		return fmt.Errorf("a user name is 1..64 characters of A-Z a-z 0-9 . _ @ -, got %q", name)
	}
	switch cmd {
	case "add":
		r, err := store.ParseRole(role)
		if err != nil {
			return err
		}
		u := store.User{Name: name, Role: r, Enabled: true}
		if u.PasswordHash, u.HA1, u.HA1SHA256, err = hashPassword(name, cfg.SIP.Realm, in, stderr); err != nil {
			return err
		}
		return db.AddUser(ctx, u)
	case "passwd":
		if _, err := db.User(ctx, name); err != nil { // before asking for a password
			return err
		}
		h, md5, sha, err := hashPassword(name, cfg.SIP.Realm, in, stderr)
		if err != nil {
			return err
		}
		return db.SetPassword(ctx, name, h, md5, sha)
	case "disable", "enable":
		return db.SetEnabled(ctx, name, cmd == "enable")
	case "role":
		return db.SetRole(ctx, name, store.Role(names[1]))
	}
	return errUsage
}

// hashPassword reads a password and returns its argon2id hash and SIP
// HA1s for realm.
func hashPassword(user, realm string, in io.Reader, stderr io.Writer) (hash, md5, sha string, err error) {
	pw, err := readPassword(in, stderr)
	if err != nil {
		return "", "", "", err
	}
	md5, _ = passhash.HA1(passhash.MD5, user, realm, pw)
	sha, _ = passhash.HA1(passhash.SHA256, user, realm, pw)
	return passhash.New(pw, passhash.Default).String(), md5, sha, nil
}

func listUsers(ctx context.Context, db *store.DB, stdout io.Writer) error {
	us, err := db.Users(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tENABLED\tSIP\tUPDATED")
	for _, u := range us {
		sip := "no"
		if u.HA1 != "" || u.HA1SHA256 != "" {
			sip = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", u.Name, u.Role, u.Enabled, sip, u.Updated.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

// openStoreCLI loads the configuration and opens its store, migrated to
// this build's schema; on failure it prints why and db is nil.
func openStoreCLI(cmd, path string, stderr io.Writer) (*config.Config, *store.DB, int) {
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "flashvox %s: %v\n", cmd, err)
		return nil, nil, exitConfig
	}
	url := cfg.StoreURL()
	if url == "" {
		fmt.Fprintf(stderr, "flashvox %s: no store: set data_dir or database.url (--config FILE, FLASHVOX_DATA_DIR); without one the accounts are the users: list of the configuration\n", cmd)
		return nil, nil, exitConfig
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, url)
	if err != nil {
		fmt.Fprintf(stderr, "flashvox %s: %v\n", cmd, err)
		return nil, nil, exitFail
	}
	if cmd != "db" {
		done, err := db.Migrate(ctx, 0)
		for _, m := range done {
			fmt.Fprintf(stderr, "flashvox %s: schema migrated to version %d (%s)\n", cmd, m.Version, m.Name)
		}
		if err != nil {
			db.Close()
			fmt.Fprintf(stderr, "flashvox %s: %v\n", cmd, err)
			return nil, nil, exitFail
		}
	}
	return cfg, db, 0
}

// parseInterspersed parses flags given anywhere among the positional
// arguments ("user add alice --role admin") and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
