package rtmfp_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmfp"
)

// peerModes are the two ways rtmfp-cpp's tools run: their default (HMAC and
// session sequence numbers required) and Flash Player's (-H -S: neither).
var peerModes = []struct {
	name string
	args []string
}{{"hmac+seq", nil}, {"flash", []string{"-H", "-S"}}}

// nellyFLV makes an ffmpeg Nellymoser 16 kHz FLV of a 440 Hz tone.
func nellyFLV(t *testing.T, seconds int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.flv")
	if out, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", strconv.Itoa(seconds),
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", path); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	return path
}

// TestPeerTCPublishToFFmpeg: tcpublish sends an ffmpeg-made Nellymoser FLV
// over RTMFP and ffmpeg plays it over RTMP; every audio tag ffmpeg gets is
// one of the file's, in order.
func TestPeerTCPublishToFFmpeg(t *testing.T) {
	for _, mode := range peerModes {
		t.Run(mode.name, func(t *testing.T) {
			st := startStack(t, rtmfp.Config{})
			src := nellyFLV(t, 3)
			tags, err := testpeer.ReadFLV(src)
			if err != nil {
				t.Fatal(err)
			}
			want := testpeer.AudioPayloads(tags)
			args := append(append([]string{"-oL", tool(t, "tcpublish"), "-L"}, mode.args...), "rtmfp://"+st.RTMFPAddr+"/live#up", src)
			pub := testpeer.Start(t, 30*time.Second, "stdbuf", args...)
			waitStream(t, st, "up", pub)
			out := filepath.Join(t.TempDir(), "got.flv")
			if o, err := testpeer.Run(t, 20*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
				"-i", st.URL("live/up"), "-t", "2", "-c", "copy", "-f", "flv", out); err != nil {
				t.Fatalf("ffmpeg play: %v\n%s", err, o)
			}
			gotTags, err := testpeer.ReadFLV(out)
			if err != nil {
				t.Fatal(err)
			}
			got := testpeer.AudioPayloads(gotTags)
			if len(got) < 100 {
				t.Fatalf("ffmpeg got %d audio tags in 2 s, want ≥ 100 (62.5/s)", len(got))
			}
			index := map[string]int{}
			for i, p := range want {
				index[string(p)] = i
			}
			inOrder, pos := 0, -1
			for i, p := range got {
				j, ok := index[string(p)]
				if !ok {
					t.Fatalf("tag %d (%d bytes) is not one of the file's", i, len(p))
				}
				if pos >= 0 && bytes.Equal(p, want[(pos+1)%len(want)]) {
					inOrder++
					pos = (pos + 1) % len(want)
					continue
				}
				pos = j
			}
			if inOrder < (len(got)-1)*98/100 {
				t.Errorf("only %d of %d tags follow their predecessor in the file", inOrder, len(got)-1)
			}
			pcm := audiotest.RunFFmpeg(t, "-i", out, "-f", "s16le", "-ac", "1", "-ar", "16000", "-")
			tone, off := goertzel(pcm, 16000, 440), goertzel(pcm, 16000, 1000)
			if tone < 100*off {
				t.Errorf("440 Hz power %.3g is not ≫ 1 kHz power %.3g: no tone", tone, off)
			}
			t.Logf("%d tags, %d in sequence; 440/1000 Hz power ratio %.0f; rtmfp stats %+v", len(got), inOrder, tone/off, st.RTMFP.Stats().Snapshot())
		})
	}
}

// goertzel is the power of freq in little-endian 16-bit PCM.
func goertzel(pcm []byte, rate, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2 float64
	for i := 0; i+1 < len(pcm); i += 2 {
		x := float64(int16(binary.LittleEndian.Uint16(pcm[i:])))
		s1, s2 = x+k*s1-s2, s1
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// waitStream waits until the hub has a publisher named name.
func waitStream(t *testing.T, st *stack, name string, p *testpeer.Proc) {
	t.Helper()
	testwait.ForDetail(t, 10*time.Second, "stream "+name+" published", func() bool { return st.Hub.Published("live/" + name) },
		func() string { return tailString(p.Output(), 2000) })
}

var onAudio = regexp.MustCompile(`stream onAudio ts: (\d+) len: (\d+)`)

// TestPeerFFmpegToTCConn: ffmpeg publishes Nellymoser over RTMP and tcconn
// plays it over RTMFP: 65-byte audio messages with rising timestamps.
func TestPeerFFmpegToTCConn(t *testing.T) {
	for _, mode := range peerModes {
		t.Run(mode.name, func(t *testing.T) {
			st := startStack(t, rtmfp.Config{})
			testpeer.Start(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "10",
				"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", st.URL("live/down"))
			args := append(append([]string{"-oL", tool(t, "tcconn")}, mode.args...), "rtmfp://"+st.RTMFPAddr+"/live#down")
			p := testpeer.Start(t, 30*time.Second, "stdbuf", args...)
			testwait.ForDetail(t, 15*time.Second, "tcconn printing 125 audio messages", func() bool {
				return len(onAudio.FindAllStringSubmatch(p.Output(), -1)) >= 125
			}, func() string {
				return fmt.Sprintf("%d printed:\n%s", len(onAudio.FindAllString(p.Output(), -1)), tailString(p.Output(), 2000))
			})
			p.Interrupt()
			<-p.Done()
			prev := -1
			for _, m := range onAudio.FindAllStringSubmatch(p.Output(), -1) {
				ts, _ := strconv.Atoi(m[1])
				if m[2] != "65" {
					t.Fatalf("audio message of %s bytes, want 65 (Nellymoser tag)", m[2])
				}
				if ts < prev {
					t.Fatalf("timestamp went back: %d after %d", ts, prev)
				}
				prev = ts
			}
			t.Logf("%d audio messages; rtmfp stats %+v", len(onAudio.FindAllString(p.Output(), -1)), st.RTMFP.Stats().Snapshot())
		})
	}
}
