package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/flashvox/flashvox/store"
)

// runCDR prints call detail records from the store, newest first: a table,
// or CSV with --csv (the same columns as GET /api/v1/admin/cdr?format=csv).
func runCDR(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cdr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (data_dir, database.url)")
	from := fs.String("from", "", "calls started at or after: RFC 3339 time, or a duration back from now (24h)")
	to := fs.String("to", "", "calls started before: RFC 3339 time, or a duration back from now")
	user := fs.String("user", "", "calls with this user as either party")
	limit := fs.Int("limit", 100, fmt.Sprintf("records to print, 1..%d", store.MaxCDRLimit))
	offset := fs.Int("offset", 0, "records to skip (the next page)")
	csvOut := fs.Bool("csv", false, "print CSV")
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) > 0 || *limit < 1 || *limit > store.MaxCDRLimit || *offset < 0 {
		fmt.Fprintln(stderr, "usage: flashvox cdr [--from T] [--to T] [--user U] [--limit N] [--offset N] [--csv] [--config F]")
		return exitConfig
	}
	f := store.CDRFilter{User: *user, Limit: *limit, Offset: *offset}
	now := time.Now()
	for _, p := range []struct {
		name, v string
		t       *time.Time
	}{{"--from", *from, &f.From}, {"--to", *to, &f.To}} {
		if p.v == "" {
			continue
		}
		if *p.t, err = parseWhen(p.v, now); err != nil {
			fmt.Fprintf(stderr, "flashvox cdr: %s: %v\n", p.name, err)
			return exitConfig
		}
	}
	_, db, code := openStoreCLI("cdr", *cfgPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := db.CDRs(ctx, f)
	if err == nil && *csvOut {
		err = store.WriteCSV(stdout, cs)
	} else if err == nil {
		err = printCDRs(stdout, cs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "flashvox cdr: %v\n", err)
		return exitFail
	}
	return 0
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration back from now (24h), got %q", v)
	}
	return now.Add(-d), nil
}

func printCDRs(w io.Writer, cs []store.CDR) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALLER\tCALLEE\tTRANSPORTS\tMODE\tDURATION\tEND\tREASON\tBY\tID")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s→%s\t%s\t%.1fs\t%s\t%s\t%s\t%s\n", store.FormatTime(c.Started), c.Caller, c.Callee,
			c.CallerTransport, c.CalleeTransport, c.Mode, c.Duration().Seconds(), c.EndEvent, c.Reason, c.EndedBy, c.ID)
	}
	return tw.Flush()
}
