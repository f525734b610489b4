package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
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
	user := fs.String("user", "", "records with this user as a party (a call's caller or callee, a member, a SIP leg's peer or party, a WebRTC session's stream or address)")
	kind := fs.String("kind", store.KindCall, "records of: call, conference (memberships), sip (SIP legs) or webrtc (WHIP/WHEP sessions)")
	limit := fs.Int("limit", 100, fmt.Sprintf("records to print, 1..%d", store.MaxCDRLimit))
	offset := fs.Int("offset", 0, "records to skip (the next page)")
	csvOut := fs.Bool("csv", false, "print CSV")
	pos, err := parseInterspersed(fs, args)
	badKind := !slices.Contains([]string{store.KindCall, store.KindConference, store.KindSIP, store.KindWebRTC}, *kind)
	if err != nil || len(pos) > 0 || *limit < 1 || *limit > store.MaxCDRLimit || *offset < 0 || badKind {
		fmt.Fprintln(stderr, "usage: flashvox cdr [--kind call|conference|sip|webrtc] [--from T] [--to T] [--user U] [--limit N] [--offset N] [--csv] [--config F]")
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
	switch *kind {
	case store.KindConference:
		err = printRecords(ctx, stdout, f, *csvOut, db.Memberships, store.WriteMembershipsCSV, printMemberships)
	case store.KindSIP:
		err = printRecords(ctx, stdout, f, *csvOut, db.SIPLegs, store.WriteSIPLegsCSV, printSIPLegs)
	case store.KindWebRTC:
		err = printRecords(ctx, stdout, f, *csvOut, db.WebRTCSessions, store.WriteWebRTCSessionsCSV, printWebRTCSessions)
	default:
		err = printRecords(ctx, stdout, f, *csvOut, db.CDRs, store.WriteCSV, printCDRs)
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

// printRecords reads one page with read and prints it as CSV or a table.
func printRecords[T any](ctx context.Context, w io.Writer, f store.CDRFilter, csv bool, read func(context.Context, store.CDRFilter) ([]T, error),
	writeCSV, table func(io.Writer, []T) error) error {
	rs, err := read(ctx, f)
	if err != nil {
		return err
	}
	if csv {
		return writeCSV(w, rs)
	}
	return table(w, rs)
}

func printCDRs(w io.Writer, cs []store.CDR) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALLER\tCALLEE\tTRANSPORTS\tCODECS\tMODE\tDURATION\tBYTES\tEND\tREASON\tBY\tID")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s→%s\t%s→%s\t%s\t%.1fs\t%s→%s\t%s\t%s\t%s\t%s\n", store.FormatTime(c.Started), c.Caller, c.Callee,
			c.CallerTransport, c.CalleeTransport, dash(c.CallerCodec), dash(c.CalleeCodec), c.Mode, c.Duration().Seconds(),
			dash(store.FormatInt(c.CallerBytes)), dash(store.FormatInt(c.CalleeBytes)), c.EndEvent, c.Reason, c.EndedBy, c.ID)
	}
	return tw.Flush()
}

func printMemberships(w io.Writer, ms []store.Membership) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOINED\tROOM\tMEMBER\tTRANSPORT\tCODEC\tDURATION\tBYTES\tREASON\tID")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\t%s\t%s\t%s\n", store.FormatTime(m.Joined), m.Room, m.Member, m.Transport, dash(m.Codec),
			m.Left.Sub(m.Joined).Seconds(), dash(store.FormatInt(m.Bytes)), m.Reason, m.ID)
	}
	return tw.Flush()
}

func printSIPLegs(w io.Writer, ls []store.SIPLeg) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tDIR\tPEER\tPARTY\tCODEC\tDURATION\tBYTES IN/OUT\tLOSS% IN/OUT\tJITTER\tRTT\tREASON\tCALL-ID")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\t%s/%s\t%s/%s\t%s\t%s\t%s\t%s\n", store.FormatTime(l.Started), l.Direction, l.Peer, l.Party,
			dash(l.Codec), l.Duration().Seconds(), dash(store.FormatInt(l.BytesIn)), dash(store.FormatInt(l.BytesOut)),
			dash(store.FormatFloat(l.LossPct)), dash(store.FormatFloat(l.LossOutPct)), dash(store.FormatFloat(l.JitterMS)),
			dash(store.FormatFloat(l.RTTMS)), l.Reason, l.SIPCallID)
	}
	return tw.Flush()
}

func printWebRTCSessions(w io.Writer, ss []store.WebRTCSession) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tDIR\tSTREAM\tADDR\tCODEC\tDURATION\tPACKETS IN/OUT\tLOSS% IN/OUT\tJITTER\tRTT\tREASON\tCALL")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1fs\t%s/%s\t%s/%s\t%s\t%s\t%s\t%s\n", store.FormatTime(s.Started), s.Direction, s.Stream, s.Addr,
			dash(s.Codec), s.Ended.Sub(s.Started).Seconds(), dash(store.FormatInt(s.PacketsIn)), dash(store.FormatInt(s.PacketsOut)),
			dash(store.FormatFloat(s.LossInPct)), dash(store.FormatFloat(s.LossOutPct)), dash(store.FormatFloat(s.JitterMS)),
			dash(store.FormatFloat(s.RTTMS)), s.Reason, dash(s.CallID))
	}
	return tw.Flush()
}

// dash is s, or "-" for a value not known.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
