package rtmfp_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
)

// lossySecondsEnv runs TestPeerLossyPublishLong for that many seconds
// (at least 30; make bench sets 60). Unset, the long run is left to make
// bench: make test keeps TestPeerLossyPublish, the same link for a few
// seconds, and stays fast.
const lossySecondsEnv = "FLASHVOX_LOSSY_SECONDS"

// arrival is one audio tag ffmpeg wrote, with when we read it.
type arrival struct {
	at time.Time
	ts uint32 // FLV timestamp, ms
}

// TestPeerLossyPublishLong is TestPeerLossyPublish over FLASHVOX_LOSSY_SECONDS
// (make bench: 60 s, the acceptance length): tcpublish → relay dropping 10 % each way and reordering 5 % →
// flashvox → ffmpeg over RTMP, whose FLV output we read as it comes. The
// delay (arrival time minus media timestamp) of the last 10 s may exceed
// that of the 10–20 s window by at most 200 ms: it does not build up.
func TestPeerLossyPublishLong(t *testing.T) {
	v := os.Getenv(lossySecondsEnv)
	if v == "" {
		t.Skipf("a long run for make bench (%s=60); make test runs TestPeerLossyPublish", lossySecondsEnv)
	}
	seconds, err := strconv.Atoi(v)
	if err != nil || seconds < 30 {
		t.Fatalf("%s=%q: want a whole number of seconds ≥ 30", lossySecondsEnv, v)
	}
	st := startStack(t, rtmfp.Config{})
	relay := startLossyRelay(t, st.RTMFPAddr, 0.10, 0.05)
	src := nellyFLV(t, seconds+10)
	pub := testpeer.Start(t, time.Duration(seconds+40)*time.Second, "stdbuf", "-oL", tool(t, "tcpublish"),
		"rtmfp://"+relay.pc.LocalAddr().String()+"/live#lossylong", src)
	waitStream(t, st, "lossylong", pub)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
	defer cancel()
	ff := exec.CommandContext(ctx, testpeer.Require(t, "ffmpeg"), "-hide_banner", "-loglevel", "error",
		"-i", st.URL("live/lossylong"), "-t", strconv.Itoa(seconds), "-c", "copy", "-flush_packets", "1", "-f", "flv", "pipe:1")
	stderr := &testpeer.Buffer{}
	ff.Stderr = stderr
	out, err := ff.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	audio, rerr := readFLVArrivals(bufio.NewReader(out))
	if err := ff.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v (read: %v)\n%s", err, rerr, stderr.String())
	}
	wall := time.Since(start)

	holes := 0
	for i := 1; i < len(audio); i++ {
		if audio[i].ts-audio[i-1].ts > 100 {
			holes++
		}
	}
	// ffmpeg probes its input for the first seconds and then writes what
	// it buffered at once: compare the second 10 s with the last 10 s.
	first, last := delayMedian(audio, 10000, 20000), delayMedian(audio, uint32(seconds*1000-10000), uint32(seconds*1000))
	relay.mu.Lock()
	dropped, relayed := relay.dropped, relay.relayed
	relay.mu.Unlock()
	t.Logf("%d audio tags, %d gaps > 100 ms, ffmpeg wall time %v; delay median 10–20 s %v, last 10 s %v (growth %v); relay dropped %d of %d; rtmfp %+v",
		len(audio), holes, wall.Round(time.Millisecond), first.Round(time.Millisecond), last.Round(time.Millisecond),
		(last - first).Round(time.Millisecond), dropped, dropped+relayed, st.RTMFP.Stats().Snapshot())
	if want := seconds * 625 / 10 * 9 / 10; len(audio) < want {
		t.Errorf("%d audio tags for %d s, want ≥ %d (90 %%)", len(audio), seconds, want)
	}
	if holes > seconds/5 {
		t.Errorf("%d gaps over 100 ms in the audio", holes)
	}
	if growth := last - first; growth > 200*time.Millisecond {
		t.Errorf("delay grew by %v over %d s", growth, seconds)
	}
	if wall > time.Duration(seconds+4)*time.Second {
		t.Errorf("%d s of media took %v: the delay builds up", seconds, wall)
	}
}

// readFLVArrivals reads an FLV stream to its end and returns its audio
// tags with their arrival times.
func readFLVArrivals(r io.Reader) ([]arrival, error) {
	var hdr [13]byte // FLV header and the first previous-tag-size
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	var audio []arrival
	var th [11]byte
	for {
		if _, err := io.ReadFull(r, th[:]); err != nil {
			if err == io.EOF {
				return audio, nil
			}
			return audio, err
		}
		at := time.Now()
		size := int(th[1])<<16 | int(th[2])<<8 | int(th[3])
		ts := uint32(th[4])<<16 | uint32(th[5])<<8 | uint32(th[6]) | uint32(th[7])<<24
		if _, err := io.CopyN(io.Discard, r, int64(size)+4); err != nil {
			return audio, err
		}
		if th[0] == 8 && size > 0 {
			audio = append(audio, arrival{at: at, ts: ts})
		}
	}
}

// delayMedian is the median of (arrival − first arrival) − (ts − first ts)
// over the tags whose media time lies in [fromMS, toMS).
func delayMedian(audio []arrival, fromMS, toMS uint32) time.Duration {
	if len(audio) == 0 {
		return 0
	}
	var d []time.Duration
	for _, a := range audio {
		rel := a.ts - audio[0].ts
		if rel >= fromMS && rel < toMS {
			d = append(d, a.at.Sub(audio[0].at)-time.Duration(rel)*time.Millisecond)
		}
	}
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}
