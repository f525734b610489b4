package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/flashvox/flashvox/store"
)

// runDB is `flashvox db migrate|check|copy`: migrate brings the store's
// schema to this build's version (a start does the same), check says
// whether it is there (exit 0), behind (1) or ahead, migrated by a newer
// flashvox (1); copy copies the store into another, empty one (SQLite to
// PostgreSQL), which it migrates first.
func runDB(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (data_dir, database.url)")
	to := fs.String("to", "", "copy: the URL of the destination (an empty database), e.g. postgres://…")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) != 1 || (pos[0] != "migrate" && pos[0] != "check" && pos[0] != "copy") || (pos[0] == "copy") != (*to != "") {
		fmt.Fprintln(stderr, "usage: flashvox db migrate|check [--config F] | flashvox db copy --to URL [--config F]")
		return exitConfig
	}
	_, db, code := openStoreCLI("db", *cfgPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if pos[0] == "copy" {
		return copyStore(ctx, db, *to, stdout, stderr)
	}
	if pos[0] == "migrate" {
		done, err := db.Migrate(ctx, 0)
		for _, m := range done {
			fmt.Fprintf(stdout, "applied %04d_%s\n", m.Version, m.Name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "flashvox db: %v\n", err)
			return exitFail
		}
	}
	have, want, err := db.Check(ctx)
	fmt.Fprintf(stdout, "%s schema version %d, this flashvox %d\n", db.Engine(), have, want)
	if err != nil {
		fmt.Fprintf(stderr, "flashvox db: %v\n", err) // behind (store.ErrSchemaOld) or ahead (ErrSchemaNewer)
		return exitFail
	}
	return 0
}

// copyStore copies db into the empty store at url.
func copyStore(ctx context.Context, db *store.DB, url string, stdout, stderr io.Writer) int {
	dst, err := store.Open(ctx, url)
	if err == nil {
		defer dst.Close()
		_, err = dst.Migrate(ctx, 0)
	}
	var n store.Copied
	if err == nil {
		n, err = store.Copy(ctx, db, dst)
	}
	if err != nil {
		fmt.Fprintf(stderr, "flashvox db copy: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "copied to %s (%s): %d users, the token secret, %d revoked tokens, %d registrations, %d call records, %d conference memberships, %d SIP legs, %d WebRTC sessions, %d contact lists\n",
		store.Redact(url), dst.Engine(), n.Users, n.Revoked, n.Registrations, n.CDRs, n.Memberships, n.SIPLegs, n.WebRTCSessions, n.ContactLists)
	return 0
}
