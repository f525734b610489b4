package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

//go:embed uac_echo_auth.xml
var uacScenario string

// sipHold is how long a SIP call talks before its BYE.
const sipHold = 7 * time.Second

// sipSetup writes the scenario and 7.2 s of a 500 Hz tone as raw μ-law
// (sipp's rtpstream input) into dir.
func sipSetup(ctx context.Context, dir string) (scenario string, err error) {
	ulaw := filepath.Join(dir, "tone.ulaw")
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(tctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", "sine=frequency=500:duration=7.2", "-ar", "8000", "-ac", "1", "-f", "mulaw", ulaw).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ffmpeg mu-law: %v: %s", err, b)
	}
	scenario = filepath.Join(dir, "uac.xml")
	return scenario, os.WriteFile(scenario, []byte(strings.ReplaceAll(uacScenario, "AUDIOFILE", ulaw)), 0o644)
}

// sipLoop has SIP login sip<i> call the echo number with sipp, one call
// after another, until ctx ends. sipp's exit status 0 is a good call.
func sipLoop(ctx context.Context, s *server, dir, scenario string, i int, cs *callStats) {
	user := "sip" + strconv.Itoa(i)
	for n := 0; ctx.Err() == nil; n++ {
		p, err1 := proc.FreePort()
		mp, err2 := proc.FreePort()
		if err1 != nil || err2 != nil {
			sleepCtx(ctx, time.Second)
			continue
		}
		log := filepath.Join(dir, fmt.Sprintf("sipp-%s.log", user))
		cctx, cancel := context.WithTimeout(ctx, sipHold+30*time.Second)
		cmd := exec.CommandContext(cctx, "sipp", s.sip, "-sf", scenario, "-s", "15550000",
			"-key", "user", user, "-au", user, "-ap", user,
			// sipp's digest uri is the host alone unless told: flashvox wants the Request-URI
			"-auth_uri", "15550000@"+s.sip, "-i", "127.0.0.1", "-p", strconv.Itoa(p),
			"-mi", "127.0.0.1", "-mp", strconv.Itoa(mp), "-m", "1", "-d", strconv.Itoa(int(sipHold/time.Millisecond)),
			"-nostdin", "-timeout", "30", "-timeout_error", "-recv_timeout", "10000")
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
		cmd.WaitDelay = 3 * time.Second
		out, err := cmd.CombinedOutput()
		cancel()
		if ctx.Err() != nil {
			return // stopped mid-call by the end of the run
		}
		if err != nil {
			_ = os.WriteFile(log, out, 0o644)
			err = fmt.Errorf("%s: sipp call %d: %v (see %s)", user, n, err, log)
		}
		cs.result(err)
		if err != nil {
			sleepCtx(ctx, 2*time.Second) // a failing sipp must not turn into a flood
		}
		sleepCtx(ctx, 500*time.Millisecond)
	}
}
