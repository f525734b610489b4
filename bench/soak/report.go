package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// Thresholds of the verdict (BENCHMARKS.md "Soak" repeats them).
const (
	maxCallFailPct = 2.0         // calls failed (1:1 and SIP), % of calls placed
	maxLostPct     = 0.5         // frames lost, % of frames received, per class
	gapsPerMinute  = 1.0         // audio gaps > 100 ms per listener-minute, per class
	maxRSSDrift    = 0.10        // end VmRSS vs baseline
	judgedSettle   = time.Minute // the VmRSS verdict needs at least this much settle time
)

// result is everything a run measured.
type result struct {
	opts    options
	phases  phases
	server  *server
	relay   []*track
	conf    []*track
	calls   callStats
	sip     callStats
	counts  []*attackCount
	m0, m1  map[string]float64
	mBase   map[string]float64 // at the end of the warm-up
	stalls  *stallWatch
	start   time.Time
	samples []sample

	mu           sync.Mutex
	problems     []string // normal clients that ended early
	peerProblems []string
	logins       int
	loginFails   int
	health       int
	healthFails  int
}

func (r *result) problem(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, s)
}

// watch is a normal user meanwhile: every 2 s /healthz, every 5 s an HTTP
// login as callb0 with the right password (from 127.0.0.1, while another
// address guesses calla0's).
func (r *result) watch(ctx context.Context, s *server) {
	hc := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok := get(ctx, hc, "GET", "http://"+s.http+"/healthz", "")
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		r.health++
		if !ok {
			r.healthFails++
		}
		r.mu.Unlock()
		if n%3 != 0 || r.opts.calls == 0 { // callb0 exists only with calls
			continue
		}
		ok = get(ctx, hc, "POST", "http://"+s.http+"/api/v1/login", `{"user":"callb0","password":"callb0"}`)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		r.logins++
		if !ok {
			r.loginFails++
		}
		r.mu.Unlock()
	}
}

func get(ctx context.Context, hc *http.Client, method, url, body string) bool {
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == 200
}

// classStats sums the tracks of one class.
type classStats struct {
	listeners, frames, lost, gaps, broken int
	seconds                               float64 // listener-seconds
	lat                                   []time.Duration
	markers                               bool
	gapSpans                              []span
	gen                                   int // gaps overlapping a stall of the load generator
}

func sum(trs []*track, w *stallWatch) classStats {
	var c classStats
	for _, tr := range trs {
		st := tr.stats()
		c.listeners++
		c.frames += st.frames
		c.lost += st.lost
		c.gaps += st.gaps
		c.seconds += float64(st.frames) * tr.frame.Seconds()
		c.lat = append(c.lat, st.lat...)
		c.markers = c.markers || st.markers
		c.gapSpans = append(c.gapSpans, st.gapSpans...)
		for _, g := range st.gapSpans {
			if w.overlaps(g) {
				c.gen++
			}
		}
		if st.broken != "" {
			c.broken++
		}
	}
	return c
}

// report prints the run and returns the verdict.
func (r *result) report(w io.Writer, dir string) bool {
	var fails []string
	failf := func(f string, a ...any) { fails = append(fails, fmt.Sprintf(f, a...)) }
	host, _ := os.Hostname()
	fmt.Fprintf(w, "soak of %s on %s (%d cores, load %s), %s\n", r.opts.duration, host, runtime.NumCPU(), proc.LoadAvg(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "normal load: %d relayed streams, %d 1:1 calls of %s at once, a mixed conference of %d, %d SIP calls at once\n\n",
		2*r.opts.relays, r.opts.calls, r.opts.callLen, r.opts.members, r.opts.sipCalls)

	fmt.Fprintln(w, "| normal users | listeners | frames | lost | gaps > 100 ms (in a generator stall) | p50 / p99 latency | ended early |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---:|")
	for _, cl := range []struct {
		name string
		trs  []*track
	}{{"relayed streams", r.relay}, {"1:1 calls (both ways)", r.calls.tracks}, {"mixed conference", r.conf}} {
		c := sum(cl.trs, r.stalls)
		kind := "added"
		if c.markers {
			kind = "one-way"
		}
		p50, p99 := pct(c.lat, 0.5), pct(c.lat, 0.99)
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d (%d) | %.1f / %.1f ms %s | %d |\n", cl.name, c.listeners, c.frames, c.lost, c.gaps, c.gen, ms(p50), ms(p99), kind, c.broken)
		if c.frames == 0 {
			failf("%s: no frames received", cl.name)
		}
		if lim := maxLostPct / 100 * float64(c.frames); float64(c.lost) > lim {
			failf("%s: %d frames lost (limit %.0f)", cl.name, c.lost, lim)
		}
		if lim := gapsPerMinute * c.seconds / 60; float64(c.gaps-c.gen) > lim {
			failf("%s: %d gaps > 100 ms outside generator stalls (limit %.1f)", cl.name, c.gaps-c.gen, lim)
		}
		if c.broken > 0 && cl.name != "1:1 calls (both ways)" { // a call's listener is counted as a failed call
			failf("%s: %d listeners lost their stream", cl.name, c.broken)
		}
	}
	fmt.Fprintln(w)
	for _, cl := range []struct {
		name string
		trs  []*track
	}{{"relayed streams", r.relay}, {"1:1 calls", r.calls.tracks}, {"mixed conference", r.conf}} {
		if gs := sum(cl.trs, r.stalls).gapSpans; len(gs) > 0 {
			sort.Slice(gs, func(i, j int) bool { return gs[i].to.Before(gs[j].to) })
			var secs []string
			for i, g := range gs {
				if i == 20 {
					secs = append(secs, "…")
					break
				}
				secs = append(secs, fmt.Sprintf("%.1f(%.0fms)", g.to.Sub(r.start).Seconds(), ms(g.to.Sub(g.from))))
			}
			fmt.Fprintf(w, "gaps of %s at s: %s\n", cl.name, strings.Join(secs, " "))
		}
	}
	for _, cs := range []struct {
		name string
		s    *callStats
	}{{"1:1 calls", &r.calls}, {"SIP calls (sipp, digest, echo)", &r.sip}} {
		fmt.Fprintf(w, "%s: %d placed, %d failed\n", cs.name, cs.s.placed, cs.s.failed)
		for _, why := range cs.s.why {
			fmt.Fprintf(w, "  failed: %s\n", why)
		}
		if cs.s.placed == 0 {
			failf("%s: none placed", cs.name)
		} else if float64(cs.s.failed) > maxCallFailPct/100*float64(cs.s.placed) {
			failf("%s: %d of %d failed", cs.name, cs.s.failed, cs.s.placed)
		}
	}
	d := func(name string) float64 { return r.m1[name] - r.m0[name] }
	n, total := r.stalls.count()
	fmt.Fprintf(w, "load generator stalls (10 ms ticker > 60 ms late): %d, %.1f s in all\n", n, total.Seconds())
	fmt.Fprintf(w, "SIP RTP (server): %.0f packets in, %.0f out, %.0f lost\n", d("flashvox_sip_rtp_packets_in_total"), d("flashvox_sip_rtp_packets_out_total"), d("flashvox_sip_rtp_packets_lost_total"))
	fmt.Fprintf(w, "hub: %.0f frames dropped for slow subscribers; %.0f RTMP messages dropped\n", d("flashvox_hub_dropped_frames_total"), d("flashvox_rtmp_dropped_messages_total"))
	fmt.Fprintf(w, "HTTP logins as callb0 during the run: %d, failed %d; /healthz: %d, failed %d\n", r.logins, r.loginFails, r.health, r.healthFails)
	if r.loginFails > 0 || r.healthFails > 0 {
		failf("normal HTTP requests failed: %d logins, %d /healthz", r.loginFails, r.healthFails)
	}
	for _, p := range append(r.problems, r.peerProblems...) {
		failf("%s", p)
	}

	fmt.Fprintln(w, "\n| hostile turn | from | turns | tried | refused or closed by the server | let through |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	for i, a := range attacks() {
		c := r.counts[i]
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d |\n", a.name, a.from, c.turns.Load(), c.tried.Load(), c.refused.Load(), c.leaked.Load())
		if c.leaked.Load() > 0 {
			failf("%s: %d let through", a.name, c.leaked.Load())
		}
	}
	var names []string
	for k, v := range r.m1 {
		if (strings.Contains(k, "refused") || strings.Contains(k, "throttled") || strings.Contains(k, "limited") ||
			strings.Contains(k, "rejected") || strings.Contains(k, "handshake_failures")) && v-r.m0[k] != 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nserver counters (change over the run):")
	for _, k := range names {
		fmt.Fprintf(w, "  %s +%.0f\n", k, d(k))
	}

	writeSamples(dir, r.samples)
	r.memory(w, failf)
	if len(fails) == 0 {
		fmt.Fprintln(w, "\nPASS")
		return true
	}
	fmt.Fprintln(w, "\nFAIL")
	for _, f := range fails {
		fmt.Fprintln(w, "  "+f)
	}
	if r.opts.keep {
		fmt.Fprintln(w, "logs in", dir)
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }

// fdsAt is the fd count of the last sample before t.
func fdsAt(ss []sample, t time.Duration) int {
	n := -1
	for _, s := range ss {
		if s.at < t {
			n = s.fds
		}
	}
	return n
}

// writeSamples keeps the curves as CSV in the work directory (kept with -keep).
func writeSamples(dir string, ss []sample) {
	var b strings.Builder
	b.WriteString("seconds,rss_bytes,fds\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "%.0f,%d,%d\n", s.at.Seconds(), s.rss, s.fds)
	}
	_ = os.WriteFile(filepath.Join(dir, "samples.csv"), []byte(b.String()), 0o644)
}
