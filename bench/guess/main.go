// Command guess measures how fast one client address can guess a user's
// password against a flashvox process: over HTTP (POST /api/v1/login) and
// over RTMP (connect to the phone app), each phase on a fresh server so
// the throttle state of one does not slow the other. A guess counts as
// checked when the server compared it (401, or Connect.Rejected "wrong
// user or password") and as refused when the server answered without
// checking (429, or a rejection saying when to retry).
//
//	go build -o bin/bench-guess ./bench/guess && bin/bench-guess -flashvox bin/flashvox -duration 10s
//
// bench/guess.sh builds the current tree and an older commit and runs both.
// Traffic stays on 127.0.0.1; the run ends by itself.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/rtmp"
)

type options struct {
	flashvox, config, label, user string
	duration                      time.Duration
	workers                       int
}

func main() {
	var o options
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary to start")
	flag.StringVar(&o.config, "config", "", "configuration file for the server (default: the embedded defaults, demo users)")
	flag.StringVar(&o.label, "label", "flashvox", "name of the server in the report")
	flag.StringVar(&o.user, "user", "alice", "user whose password is guessed")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&o.workers, "workers", 8, "concurrent guessers (all from 127.0.0.1)")
	flag.Parse()
	for _, phase := range []struct {
		name  string
		guess func(ctx context.Context, srv server, n int) outcome
	}{{"http", httpGuess}, {"rtmp", rtmpGuess}} {
		r, err := measure(o, phase.guess)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-10s %-4s %6d checked %8d refused %5d other in %4.1f s: %8.1f checked guesses/s per IP (%.0f answers/s)\n",
			o.label, phase.name, r.checked, r.refused, r.other, r.secs, float64(r.checked)/r.secs, float64(r.checked+r.refused+r.other)/r.secs)
	}
}

type server struct{ http, rtmp, user string }

type outcome int

const (
	checked outcome = iota
	refused
	other
)

type result struct {
	checked, refused, other int64
	secs                    float64
}

// measure starts a server and runs o.workers guessers for o.duration.
func measure(o options, guess func(context.Context, server, int) outcome) (result, error) {
	rtmpAddr, err := proc.FreeAddr()
	if err != nil {
		return result{}, err
	}
	httpAddr, err := proc.FreeAddr()
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+time.Minute)
	defer cancel()
	var args []string
	if o.config != "" {
		args = []string{"--config", o.config}
	}
	cmd := exec.CommandContext(ctx, o.flashvox, args...)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN="+rtmpAddr, "FLASHVOX_HTTP_LISTEN="+httpAddr,
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_LEVEL=error")
	srv, err := proc.Start(cmd, o.label, httpAddr, syscall.SIGTERM)
	if err != nil {
		return result{}, err
	}
	defer srv.Stop()
	s := server{http: "http://" + httpAddr, rtmp: "rtmp://" + rtmpAddr + "/phone", user: o.user}
	var counts [3]atomic.Int64
	var seq atomic.Int64
	start := time.Now()
	runCtx, stop := context.WithTimeout(ctx, o.duration)
	defer stop()
	var wg sync.WaitGroup
	for range o.workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				counts[guess(runCtx, s, int(seq.Add(1)))].Add(1)
			}
		})
	}
	wg.Wait()
	return result{counts[checked].Load(), counts[refused].Load(), counts[other].Load(), time.Since(start).Seconds()}, nil
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func httpGuess(ctx context.Context, s server, n int) outcome {
	body, _ := json.Marshal(map[string]string{"user": s.user, "password": fmt.Sprintf("guess-%d", n)})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.http+"/api/v1/login", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return other
	}
	defer res.Body.Close()
	var e struct{ Error string }
	_ = json.NewDecoder(res.Body).Decode(&e)
	switch {
	case res.StatusCode == 401 && e.Error == "bad_credentials":
		return checked
	case res.StatusCode == 429:
		return refused
	}
	return other
}

func rtmpGuess(ctx context.Context, s server, n int) outcome {
	c, err := rtmp.Dial(ctx, s.rtmp, rtmp.ClientOptions{ConnectArgs: []any{s.user, fmt.Sprintf("guess-%d", n)}})
	if err == nil {
		c.Close()
		return other
	}
	switch msg := err.Error(); {
	case strings.Contains(msg, "wrong user or password"):
		return checked
	case strings.Contains(msg, "retry in"):
		return refused
	}
	return other
}
