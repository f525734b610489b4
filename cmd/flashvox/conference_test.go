package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/softphone"
)

// confTones are the five phones' tones: apart enough for a 20 ms Goertzel
// window (50 Hz bins), and at 0.2 of full scale so four summed never clip.
var confTones = []float64{400, 650, 950, 1300, 1700}

// confConfig is a flashvox configuration with users p1…p5, mod and carol
// (password = name), rooms moderated by mod, and the SIP number 5551000
// ringing conf:sip.
const confConfig = `users:
  - {name: p1, password: p1}
  - {name: p2, password: p2}
  - {name: p3, password: p3}
  - {name: p4, password: p4}
  - {name: p5, password: p5}
  - {name: mod, password: mod}
  - {name: carol, password: carol}
conference:
  rooms:
    - {name: mixed5, mode: mixed, moderators: [mod]}
    - {name: relay5, mode: relay, moderators: [mod]}
    - {name: mute, mode: mixed, moderators: [mod]}
    - {name: sip, mode: mixed, moderators: [mod]}
    - {name: rec, moderators: [mod], record: wav}
sip:
  inbound:
    - {number: "5551000", target: "conf:sip"}
`

// startConfServer runs flashvox with confConfig; env is extra settings.
func startConfServer(t *testing.T, env ...string) *server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(p, []byte(confConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return startFlashvoxWith(t, env, "--config", p)
}

// writeConfTone writes secs seconds of freq at 0.2 of full scale (the
// phone loops it; baresip's aufile ends the call at its end).
func writeConfTone(t *testing.T, freq float64, rate, secs int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("tone%v-%d.wav", freq, rate))
	if err := audiotest.WriteWAV(p, audiotest.Sine(rate, secs*rate, freq, 0.2), rate); err != nil {
		t.Fatal(err)
	}
	return p
}

// confEvent is a room event as GET /api/v1/events returns it.
type confEvent struct {
	Type, Room, Member, User, Reason, Status string
}

// joinRoom joins room over HTTP and returns the member id; the user then
// gets the room's events.
func (u *httpUser) joinRoom(room string) string {
	u.t.Helper()
	var j struct{ Member string }
	if code := u.do("POST", "/conferences/"+room+"/join", "{}", &j); code != 200 {
		u.t.Fatalf("join %s: %d", room, code)
	}
	return j.Member
}

// waitConf long-polls the user's events until one satisfies ok, skipping
// the others, and fails after within.
func (u *httpUser) waitConf(what string, within time.Duration, ok func(confEvent) bool) confEvent {
	u.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var page struct {
			Cursor uint64
			Events []confEvent
		}
		u.do("GET", fmt.Sprintf("/events?cursor=%d&wait=%s", u.cursor, time.Until(deadline).Round(time.Millisecond)), "", &page)
		for i, e := range page.Events {
			if ok(e) {
				u.cursor = page.Cursor - uint64(len(page.Events)-i-1)
				return e
			}
		}
		u.cursor = page.Cursor
	}
	u.t.Fatalf("%s: not within %v", what, within)
	return confEvent{}
}

// waitJoined waits until every one of users has joined room.
func (u *httpUser) waitJoined(room string, within time.Duration, users ...string) map[string]string {
	u.t.Helper()
	ids := map[string]string{}
	for len(ids) < len(users) {
		e := u.waitConf(fmt.Sprintf("%v joined %s (have %v)", users, room, ids), within, func(e confEvent) bool {
			return e.Type == "conf_joined" && e.Room == room
		})
		ids[e.User] = e.Member
	}
	return ids
}

// confPhones starts p1…p5 in room, each sending its confTones tone and
// recording what it hears; it returns the recordings' paths.
func confPhones(t *testing.T, s *server, room, codecName string) ([]*phoneProc, []string) {
	t.Helper()
	dir := t.TempDir()
	var procs []*phoneProc
	var recs []string
	for i, f := range confTones {
		rec := filepath.Join(dir, fmt.Sprintf("p%d.wav", i+1))
		procs = append(procs, s.phone(t, fmt.Sprintf("p%d", i+1), "call", "conf:"+room,
			"--play", writeConfTone(t, f, 16000, 1), "--record", rec, "--codec", codecName))
		recs = append(recs, rec)
	}
	return procs, recs
}

// lastSeconds reads a recording and returns its last secs seconds but the
// final 300 ms (the room's end).
func lastSeconds(t *testing.T, path string, secs float64) ([]int16, int) {
	t.Helper()
	pcm, rate, err := audiotest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	end := len(pcm) - rate*3/10
	start := end - int(secs*float64(rate))
	if start < 0 {
		t.Fatalf("%s: only %.1f s", path, float64(len(pcm))/float64(rate))
	}
	return pcm[start:end], rate
}

// runFivePhones puts five phone processes into room, lets them talk 4 s
// after the last one joined, ends the room, and checks every recording.
func runFivePhones(t *testing.T, room, codecName string) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startConfServer(t)
	mod := s.login(t, "mod")
	mod.joinRoom(room) // a silent member: it gets the room's events
	started := time.Now()
	procs, recs := confPhones(t, s, room, codecName)
	mod.waitJoined(room, 15*time.Second, "p1", "p2", "p3", "p4", "p5")
	t.Logf("five phone processes joined in %v", time.Since(started).Round(time.Millisecond))
	<-time.After(4 * time.Second) // talk time, not an event
	if code := mod.do("POST", "/conferences/"+room+"/end", "", nil); code != 200 {
		t.Fatalf("end: %d", code)
	}
	for i, p := range procs {
		if code, out := p.wait(t, 5*time.Second); code != 0 {
			t.Fatalf("p%d exit %d: %s", i+1, code, out)
		}
	}
	for i, rec := range recs {
		pcm, rate := lastSeconds(t, rec, 3)
		var others []float64
		for k, f := range confTones {
			if k != i {
				others = append(others, f)
			}
		}
		audiotest.HearsOthers(t, fmt.Sprintf("p%d", i+1), pcm, rate, confTones[i], others...)
	}
}

// TestConferenceMixedFivePhones: five `flashvox client … call conf:mixed5`
// processes each send a distinct tone into a mixed room of a flashvox
// process; each recording holds the four other tones and its own at least
// 30 dB below them.
func TestConferenceMixedFivePhones(t *testing.T) { runFivePhones(t, "mixed5", "speex") }

// TestConferenceRelayFivePhones: the same in a relay room, where each phone
// plays the four others' streams (and records them summed). The phones use
// Nellymoser: a relayed stream reaches a late player mid-stream, and a
// libspeex decoder started mid-stream on a pure sine never converges (its
// pitch memory sustains the error: full-scale noise); the mixer's decoders
// start with each member's first frame, so the mixed test uses Speex.
func TestConferenceRelayFivePhones(t *testing.T) { runFivePhones(t, "relay5", "nellymoser") }

// TestConferenceMuteAndKill: in a mixed room, phone processes p1 (400 Hz)
// and p2 (950 Hz) talk; p3, an in-process phone over RTMP to the same
// flashvox process, records its mix with each message's arrival time. A
// moderator mutes p1 over the HTTP API: p1's tone must be gone from p3's
// mix in a frame that arrived within 100 ms of the request. Then p2's
// process is killed with SIGKILL: the room must report it left (gone)
// within 2 s.
func TestConferenceMuteAndKill(t *testing.T) {
	testpeer.SkipShort(t, "flashvox processes")
	s := startConfServer(t)
	mod := s.login(t, "mod")
	mod.joinRoom("mute")
	p1 := s.phone(t, "p1", "call", "conf:mute", "--play", writeConfTone(t, 400, 16000, 1))
	p2 := s.phone(t, "p2", "call", "conf:mute", "--play", writeConfTone(t, 950, 16000, 1))
	var mu sync.Mutex
	var arrivals []time.Time
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		r   *softphone.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := softphone.Call(ctx, softphone.Options{Server: s.phoneURL, User: "p3", Secret: "p3", Codec: codec.Speex,
			OnHear: func(_ uint32, at time.Time) { mu.Lock(); arrivals = append(arrivals, at); mu.Unlock() }}, "conf:mute")
		done <- result{r, err}
	}()
	ids := mod.waitJoined("mute", 15*time.Second, "p1", "p2", "p3")
	<-time.After(1500 * time.Millisecond) // talk time, not an event
	muteAt := time.Now()
	if code := mod.do("POST", "/conferences/mute/members/"+ids["p1"]+"/mute", "", nil); code != 200 {
		t.Fatalf("mute: %d", code)
	}
	<-time.After(time.Second)
	killAt := time.Now()
	p2.cmd.Process.Signal(syscall.SIGKILL)
	mod.waitConf("p2 gone", 2*time.Second, func(e confEvent) bool {
		return e.Type == "conf_left" && e.Member == ids["p2"] && e.Reason == "gone"
	})
	t.Logf("SIGKILL to p2 out of the room (conf_left gone): %v", time.Since(killAt).Round(time.Millisecond))
	if code := mod.do("POST", "/conferences/mute/end", "", nil); code != 200 {
		t.Fatalf("end: %d", code)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("p3: %v", res.err)
	}
	if code, out := p1.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("p1 exit %d: %s", code, out)
	}

	// Per 20 ms message: p1's tone level and arrival time.
	mu.Lock()
	defer mu.Unlock()
	const n = 320 // one Speex frame per message
	frames := min(len(arrivals), len(res.r.Heard)/n)
	level := func(k int) float64 { return audiotest.ToneDB(res.r.Heard[k*n:(k+1)*n], 16000, 400) }
	var before []float64
	gone := -1
	for k := range frames {
		at := arrivals[k]
		switch {
		case at.Before(muteAt) && at.After(muteAt.Add(-500*time.Millisecond)):
			before = append(before, level(k))
		case !at.Before(muteAt) && at.Before(killAt):
			if level(k) > -45 {
				gone = -1
			} else if gone < 0 {
				gone = k
			}
		}
	}
	if len(before) == 0 || gone < 0 {
		t.Fatalf("p1's tone before the mute %v; never gone after it (%d frames)", before, frames)
	}
	lag := arrivals[gone].Sub(muteAt)
	// The frame just before the request may already be mixed after the mute
	// took effect: judge "present before" by the median of the 500 ms before.
	sorted := slices.Clone(before)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	t.Logf("p1's 400 Hz before the mute: %.1f dB (median of the last 500 ms); gone (< -45 dB) from the frame that arrived %v after the mute request, %.1f dB",
		median, lag.Round(time.Millisecond), level(gone))
	if median < -25 {
		t.Errorf("p1's tone was not in the mix before the mute: %.1f dB", median)
	}
	if lag > 100*time.Millisecond {
		t.Errorf("mute took %v to reach the mix (want ≤ 100 ms)", lag)
	}
	pcm := res.r.Heard[gone*n : min(len(res.r.Heard), (gone+40)*n)]
	if db := audiotest.ToneDB(pcm, 16000, 950); db < -30 {
		t.Errorf("p2's 950 Hz is gone too after the mute: %.1f dB", db)
	}
}

// TestConferenceBaresip: a baresip process (SIP, PCMU) dials the number
// 5551000, mapped to conf:sip, a mixed room where phone processes p1
// (400 Hz) and p2 (1300 Hz) talk; baresip sends 800 Hz. Each web phone
// hears the other and baresip; baresip hears both web phones; nobody hears
// itself.
func TestConferenceBaresip(t *testing.T) {
	testpeer.Require(t, "baresip")
	sipAddr := fmt.Sprintf("127.0.0.1:%d", testpeer.FreePort(t))
	s := startConfServer(t, "FLASHVOX_SIP_LISTEN="+sipAddr)
	mod := s.login(t, "mod")
	mod.joinRoom("sip")
	dir := t.TempDir()
	recs := []string{filepath.Join(dir, "p1.wav"), filepath.Join(dir, "p2.wav")}
	tones := []float64{400, 1300}
	const sipHz = 800
	var procs []*phoneProc
	for i, f := range tones {
		procs = append(procs, s.phone(t, fmt.Sprintf("p%d", i+1), "call", "conf:sip",
			"--play", writeConfTone(t, f, 16000, 1), "--record", recs[i], "--codec", "speex"))
	}
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + sipAddr + ">;regint=0;audio_codecs=PCMU",
		SourceWAV: writeConfTone(t, sipHz, 8000, 25),
		Exec:      "/dial sip:5551000@" + sipAddr, Seconds: 25,
	})
	// From the default trunk's address: an external caller.
	mod.waitJoined("sip", 15*time.Second, "p1", "p2", "ext:carol")
	<-time.After(4 * time.Second) // talk time, not an event
	if code := mod.do("POST", "/conferences/sip/end", "", nil); code != 200 {
		t.Fatalf("end: %d", code)
	}
	for i, p := range procs {
		if code, out := p.wait(t, 5*time.Second); code != 0 {
			t.Fatalf("p%d exit %d: %s", i+1, code, out)
		}
	}
	for i, rec := range recs {
		pcm, rate := lastSeconds(t, rec, 3)
		audiotest.HearsOthers(t, fmt.Sprintf("p%d", i+1), pcm, rate, tones[i], tones[1-i], sipHz)
	}
	b.Stop() // closes its recording
	heard := b.Heard()
	if heard == "" {
		t.Fatalf("baresip recorded nothing\n%s", b.Output())
	}
	pcm, rate := lastSeconds(t, heard, 3)
	audiotest.HearsOthers(t, fmt.Sprintf("baresip (%d Hz)", rate), pcm, rate, sipHz, tones...)
}
