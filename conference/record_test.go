package conference

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/container/flv"
	"github.com/flashvox/flashvox/container/wav"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// recordRoom runs a recorded room "rec" where two members send 500 Hz
// and 1200 Hz for about 2 s, then calls finish (which must end the room)
// and returns the recording's path.
func recordRoom(t *testing.T, format RecordFormat, finish func(s *Service)) string {
	t.Helper()
	dir := t.TempDir()
	// The room is configured relay: recording must make it mixed anyway.
	s := newTestService(t, Options{RecordDir: dir, Rooms: []RoomConfig{{Name: "rec", Mode: ModeRelay, Record: format}}})
	h := s.opts.Hub
	a, ja, err := s.Join("rec", JoinOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Join("rec", JoinOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if ja.Mode != ModeMixed {
		t.Fatalf("recorded room joined in mode %s, want mixed", ja.Mode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { talker(ctx, t, h, a.PublishKey(), codec.Speex, 500) })
	wg.Go(func() { talker(ctx, t, h, b.PublishKey(), codec.Nellymoser, 1200) })
	wg.Wait()
	finish(s)
	files, _ := filepath.Glob(filepath.Join(dir, "rec-*."+string(format)))
	if len(files) != 1 {
		t.Fatalf("recordings in %s: %v", dir, files)
	}
	return files[0]
}

// checkTones asserts that pcm (16 kHz) holds both members' tones.
func checkTones(t *testing.T, pcm []int16) {
	t.Helper()
	if len(pcm) < 16000 {
		t.Fatalf("recording holds %d samples, want about 2 s", len(pcm))
	}
	pcm = pcm[len(pcm)/4:] // past the start-up
	for _, f := range []float64{500, 1200} {
		db := audiotest.SpanToneDB(pcm, 16000, f)
		t.Logf("%.0f Hz at %.1f dB", f, db)
		if db < -30 {
			t.Errorf("%.0f Hz at %.1f dB in the recording, want above -30", f, db)
		}
	}
}

// A recorded room's WAV, closed when the last member leaves, has correct
// header sizes, ffmpeg reads it, and it holds both members' tones.
func TestRecordWAVOnRoomEnd(t *testing.T) {
	path := recordRoom(t, RecordWAV, func(s *Service) {
		for _, m := range s.Memberships("alice") {
			m.Leave()
		}
		for _, m := range s.Memberships("bob") {
			m.Leave()
		}
	})
	// The room ended; its mixer completes the file on its own goroutine.
	var b []byte
	testwait.ForDetail(t, 10*time.Second, path+"'s header sizes matching the file", func() bool {
		b, _ = os.ReadFile(path)
		return len(b) > 44 && int(binary.LittleEndian.Uint32(b[40:44])) == len(b)-44
	}, func() string { return fmt.Sprintf("%d bytes", len(b)) })
	if riff := binary.LittleEndian.Uint32(b[4:8]); int(riff) != len(b)-8 {
		t.Errorf("RIFF size %d, file %d bytes", riff, len(b))
	}
	pcm, rate, err := wav.Parse(b)
	if err != nil || rate != 16000 {
		t.Fatalf("ParseWAV: rate %d, %v", rate, err)
	}
	// ffmpeg, the reference reader, must agree on the length.
	raw := audiotest.RunFFmpeg(t, "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-")
	if len(raw)/2 != len(pcm) {
		t.Errorf("ffmpeg read %d samples, the header says %d", len(raw)/2, len(pcm))
	}
	checkTones(t, pcm)
}

// Service.Close (server shutdown) completes an FLV recording before it
// returns: every tag is whole, and ffmpeg decodes both tones from it.
func TestRecordFLVOnShutdown(t *testing.T) {
	path := recordRoom(t, RecordFLV, func(s *Service) { s.Close() })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.Parse(b)
	if err != nil {
		t.Fatalf("ParseFLV: %v", err)
	}
	if len(tags) < 50 || tags[0].Type != flv.TagScript || tags[1].Data[0]>>4 != 11 {
		t.Fatalf("%d tags, first of type %d, first sound format %d; want onMetaData then Speex (11)", len(tags), tags[0].Type, tags[1].Data[0]>>4)
	}
	pcm := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"))
	checkTones(t, pcm)
}
