package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// recordConfig has two recorded rooms moderated by mod, one per format.
const recordConfig = `users:
  - {name: p1, password: p1}
  - {name: p2, password: p2}
  - {name: mod, password: mod}
conference:
  rooms:
    - {name: recwav, moderators: [mod], record: wav}
    - {name: recflv, moderators: [mod], record: flv}
`

func startRecordServer(t *testing.T, dir string) *server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(p, []byte(recordConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return startFlashvoxWith(t, []string{"FLASHVOX_CONFERENCE_RECORD_DIR=" + dir}, "--config", p)
}

// ffprobeDuration is the duration ffprobe reads from path's container.
func ffprobeDuration(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command(testpeer.Require(t, "ffprobe"), "-v", "error", "-show_entries", "format=duration",
		"-of", "default=nw=1:nk=1", path).CombinedOutput()
	d, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || perr != nil {
		t.Fatalf("ffprobe %s: %v %s", path, err, out)
	}
	return d
}

// TestPeerConferenceRecordingSIGKILL: two `flashvox client` processes talk
// (400 Hz, 1300 Hz) in rooms recorded to WAV and to FLV for about 18 s,
// then the server is killed with SIGKILL. ffprobe must read at least 90 %
// of the time each room was recorded from its file (WAV: the header's
// sizes, which never claim more than the file holds; FLV: onMetaData's
// duration), and the end of each file must hold its tone.
func TestPeerConferenceRecordingSIGKILL(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	testpeer.Require(t, "ffprobe")
	dir := t.TempDir()
	s := startRecordServer(t, dir)
	mod := s.login(t, "mod")
	start := map[string]time.Time{}
	for _, room := range []string{"recwav", "recflv"} {
		start[room] = time.Now() // the room and its recording start at this join
		mod.joinRoom(room)
	}
	s.phone(t, "p1", "call", "conf:recwav", "--play", writeConfTone(t, 400, 16000, 1))
	s.phone(t, "p2", "call", "conf:recflv", "--play", writeConfTone(t, 1300, 16000, 1))
	joined := map[string]bool{}
	mod.waitConf("p1 in recwav and p2 in recflv", 15*time.Second, func(e confEvent) bool {
		joined[e.Type+" "+e.Room+" "+e.User] = true
		return joined["conf_joined recwav p1"] && joined["conf_joined recflv p2"]
	})
	<-time.After(time.Until(start["recwav"].Add(18 * time.Second))) // talk time, not an event
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("flashvox still runs 10 s after SIGKILL")
	}
	for room, tone := range map[string]float64{"recwav": 400, "recflv": 1300} {
		ext := strings.TrimPrefix(room, "rec")
		files, _ := filepath.Glob(filepath.Join(dir, room+"-*."+ext))
		if len(files) != 1 {
			t.Fatalf("%s recordings: %v", room, files)
		}
		f := files[0]
		recorded := killed.Sub(start[room]).Seconds()
		got := ffprobeDuration(t, f)
		t.Logf("%s: recorded for at most %.2f s, ffprobe reads %.2f s (%.1f %%)", filepath.Base(f), recorded, got, 100*got/recorded)
		if got < 0.9*recorded {
			t.Errorf("%s: ffprobe reads %.2f s of the %.2f s recorded, want ≥ 90 %%", f, got, recorded)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if ext == "wav" {
			data := int(binary.LittleEndian.Uint32(b[40:44]))
			if data > len(b)-44 || int(binary.LittleEndian.Uint32(b[4:8])) != 36+data {
				t.Errorf("%s: header claims %d data bytes (RIFF %d), the file holds %d", f, data, binary.LittleEndian.Uint32(b[4:8]), len(b)-44)
			}
			if secs := float64(data) / 2 / 16000; secs < 0.9*recorded {
				t.Errorf("%s: the header says %.2f s of the %.2f s recorded, want ≥ 90 %%", f, secs, recorded)
			}
		} else if !regexp.MustCompile(`duration`).Match(b[:min(len(b), 200)]) {
			t.Errorf("%s: no onMetaData duration", f)
		}
		pcm := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-i", f, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
		if len(pcm) < 4*16000 {
			t.Fatalf("%s: ffmpeg decodes %d samples", f, len(pcm))
		}
		db := audiotest.SpanToneDB(pcm[len(pcm)-2*16000:], 16000, tone)
		t.Logf("%s: %.0f Hz at %.1f dB in its last 2 s", filepath.Base(f), tone, db)
		if db < -40 {
			t.Errorf("%s: %.0f Hz at %.1f dB at the end, want above -40", f, tone, db)
		}
	}
}

// TestPeerConferenceRecordDirUnwritable: a record_dir that does not exist
// when a recorded room starts: its moderator is told conf_record_failed
// (not_writable) over HTTP, and flashvox_conference_record_errors_total
// counts it; the room works.
func TestPeerConferenceRecordDirUnwritable(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	s := startRecordServer(t, filepath.Join(t.TempDir(), "missing"))
	mod := s.login(t, "mod")
	mod.joinRoom("recwav")
	e := mod.waitConf("conf_record_failed", 10*time.Second, func(e confEvent) bool { return e.Type == "conf_record_failed" })
	if e.Room != "recwav" || e.Reason != "not_writable" {
		t.Errorf("event %+v, want room recwav, reason not_writable", e)
	}
	metrics := strings.TrimSuffix(s.api, "/api/v1") + "/metrics"
	re := regexp.MustCompile(`(?m)^flashvox_conference_record_errors_total (\d+)`)
	testwait.For(t, 5*time.Second, "flashvox_conference_record_errors_total ≥ 1", func() bool {
		m := re.FindStringSubmatch(httpGet(t, metrics))
		return m != nil && m[1] != "0"
	})
	s.phone(t, "p1", "call", "conf:recwav", "--play", writeConfTone(t, 400, 16000, 1))
	mod.waitJoined("recwav", 15*time.Second, "p1")
}
