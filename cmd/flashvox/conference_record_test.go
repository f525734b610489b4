package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/container/wav"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// TestConferenceRecordingSIGTERM: two `flashvox client` processes send
// 400 Hz and 1300 Hz into room rec (record: wav) of a flashvox process,
// which gets SIGTERM while they talk: it exits 0, and the recording it
// leaves has header sizes matching the file, ffmpeg reads all of it, and it
// holds both tones.
func TestConferenceRecordingSIGTERM(t *testing.T) {
	dir := t.TempDir()
	s := startConfServer(t, "FLASHVOX_CONFERENCE_RECORD_DIR="+dir)
	mod := s.login(t, "mod")
	mod.joinRoom("rec") // a silent member: it gets the room's events
	s.phone(t, "p1", "call", "conf:rec", "--play", writeConfTone(t, 400, 16000, 1))
	s.phone(t, "p2", "call", "conf:rec", "--play", writeConfTone(t, 1300, 16000, 1))
	mod.waitJoined("rec", 15*time.Second, "p1", "p2")
	<-time.After(3500 * time.Millisecond) // talk time, not an event (the recording must reach 3 s)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("flashvox after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("flashvox did not stop within 15 s of SIGTERM")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "rec-*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings: %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || int(binary.LittleEndian.Uint32(b[4:8])) != len(b)-8 || int(binary.LittleEndian.Uint32(b[40:44])) != len(b)-44 {
		t.Fatalf("%s (%d bytes): header sizes do not match the file", files[0], len(b))
	}
	pcm, rate, err := wav.Parse(b)
	if err != nil || rate != 16000 {
		t.Fatalf("ParseWAV: rate %d, %v", rate, err)
	}
	raw := audiotest.RunFFmpeg(t, "-i", files[0], "-f", "s16le", "-")
	if len(raw)/2 != len(pcm) || len(pcm) < 3*16000 {
		t.Fatalf("ffmpeg read %d samples, the header says %d (want ≥ 3 s)", len(raw)/2, len(pcm))
	}
	t.Logf("recording: %.1f s", float64(len(pcm))/16000)
	tail := pcm[len(pcm)-2*16000:] // both talk by then
	for _, f := range []float64{400, 1300} {
		db := audiotest.SpanToneDB(tail, 16000, f)
		t.Logf("%.0f Hz at %.1f dB", f, db)
		if db < -40 {
			t.Errorf("%.0f Hz at %.1f dB in the recording, want above -40", f, db)
		}
	}
}
