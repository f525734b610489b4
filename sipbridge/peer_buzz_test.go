package sipbridge

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/audiotest"
	"github.com/flashvox/flashvox/internal/testpeer"
)

// Issue 17 item 4: "one unexplained 100 Hz buzz on a registered SIP
// phone's call out through a trunk (1 run in 3: harmonics growing until
// they matched the tone at 4–5 s)". A buzz at the packet rate (20 ms
// packets: 50 Hz and its harmonics, 100 Hz among them) is what one
// artefact per packet makes: a duplicated or dropped packet, a timestamp
// step, a resampler or codec state reset at each frame.

// buzzTone is the phone's tone: a sine that is no multiple of 50 Hz, so
// the packet-rate harmonics stay apart from it.
const buzzTone = 730

// buzzWindow is one stretch of a recording: the tone's level and the
// level of the packet-rate harmonics (every multiple of 50 Hz up to
// 3.4 kHz, 60 Hz or more away from the tone), summed as power.
type buzzWindow struct {
	at         time.Duration
	tone, buzz float64 // dB re full scale
}

// buzzLevels cuts pcm into 500 ms windows from skip on.
func buzzLevels(pcm []int16, rate int, skip time.Duration) []buzzWindow {
	n := rate / 2
	var out []buzzWindow
	for off := int(skip.Seconds() * float64(rate)); off+n <= len(pcm); off += n {
		w := pcm[off : off+n]
		var p float64
		for f := 50.0; f <= 3400; f += 50 {
			if math.Abs(f-buzzTone) < 60 {
				continue
			}
			p += math.Pow(10, audiotest.ToneDB(w, rate, f)/10)
		}
		out = append(out, buzzWindow{at: time.Duration(off) * time.Second / time.Duration(rate),
			tone: audiotest.ToneDB(w, rate, buzzTone), buzz: 10 * math.Log10(p+1e-30)})
	}
	return out
}

// buzzCalls is how many calls TestPeerBaresipTrunkBuzz places per case
// (FLASHVOX_BUZZ_CALLS overrides the default 5).
func buzzCalls() int {
	if n, err := strconv.Atoi(os.Getenv("FLASHVOX_BUZZ_CALLS")); err == nil && n > 0 {
		return n
	}
	return 5
}

// TestPeerBaresipTrunkBuzz reproduces the report: a SIP phone (baresip,
// logged in as carol) calls a number; the dial plan sends it to the trunk
// (sipp -rtp_echo), which echoes the RTP; the phone records what it
// hears for 4 s. Each call's recording is cut into 500 ms windows and
// the packet-rate harmonics are compared with the tone. Both paths the
// phone's audio can take: PCMU on both legs (pass-through in the hub),
// and G.722 on the phone's leg, PCMU on the trunk's (transcoded both
// ways, 16 ↔ 8 kHz). Every window of every call must have the buzz at
// least 30 dB below the tone.
func TestPeerBaresipTrunkBuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("real peers")
	}
	for _, tc := range []struct {
		name, codecs string
		rate         int
	}{
		{"pcmu_passthrough", "PCMU", 8000},
		{"g722_transcoded", "G722/16000/1", 16000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mic := filepath.Join(t.TempDir(), "tone.wav")
			if err := audiotest.WriteWAV(mic, audiotest.Sine(tc.rate, 12*tc.rate, buzzTone, 0.3), tc.rate); err != nil {
				t.Fatal(err)
			}
			worst := math.Inf(-1)
			for i := range buzzCalls() {
				uas, addr := testpeer.SippUAS(t, 30*time.Second, 1)
				e := startEnv(t, func(o *Options) { o.Trunks = []Trunk{trunk(addr)} })
				b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
					Account:   g722Account("carol", e.bridge.Addr(), tc.codecs, ";regint=0"),
					SourceWAV: mic, Exec: "/dial sip:+15551234567@" + e.bridge.Addr(), Seconds: 5,
				})
				if err := b.Wait(); err != nil {
					t.Fatalf("call %d: baresip: %v\n%s", i, err, b.Output())
				}
				if err := uas.Wait(); err != nil {
					t.Fatalf("call %d: sipp uas: %v\n%s", i, err, uas.Output())
				}
				pcm, rate, err := audiotest.ReadWAV(b.Heard())
				if err != nil {
					t.Fatalf("call %d: baresip's recording: %v\n%s", i, err, b.Output())
				}
				ws := buzzLevels(pcm, rate, 500*time.Millisecond)
				if len(ws) < 4 {
					t.Fatalf("call %d: baresip heard only %d samples", i, len(pcm))
				}
				line := ""
				for _, w := range ws {
					line += fmt.Sprintf(" %.1fs:%.1f/%.1f", w.at.Seconds(), w.tone, w.buzz)
					worst = max(worst, w.buzz-w.tone)
					if w.tone < -20 || w.buzz > w.tone-30 {
						t.Errorf("call %d at %v: tone %.1f dB, packet-rate harmonics %.1f dB", i, w.at, w.tone, w.buzz)
					}
				}
				t.Logf("call %d (%s, codecs %v, lost %d): tone/buzz dB per 500 ms:%s", i, tc.name, e.bridge.Stats.Codecs(),
					e.bridge.Stats.RTPLost.Load(), line)
			}
			t.Logf("%s: %d calls, worst window: harmonics %.1f dB re the tone", tc.name, buzzCalls(), worst)
		})
	}
}
