package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// runDB is `flashvox db migrate|check`: migrate brings the store's schema
// to this build's version (a start does the same), check says whether it
// is there (exit 0), behind (1) or ahead, migrated by a newer flashvox (1).
func runDB(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (data_dir, database.url)")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) != 1 || (pos[0] != "migrate" && pos[0] != "check") {
		fmt.Fprintln(stderr, "usage: flashvox db migrate|check [--config F]")
		return exitConfig
	}
	_, db, code := openStoreCLI("db", *cfgPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
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
