package conference

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/container/flv"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// recordEvents is a member's record_* events, for tests.
type recordEvents struct {
	mu  sync.Mutex
	got []Event
}

func (r *recordEvents) notify(e Event) {
	if e.Type == EvRecordFailed || e.Type == EvRecordResumed {
		r.mu.Lock()
		r.got = append(r.got, e)
		r.mu.Unlock()
	}
}

func (r *recordEvents) list() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitFor waits until the events are exactly want (type/reason pairs).
func (r *recordEvents) waitFor(t *testing.T, within time.Duration, want ...string) {
	t.Helper()
	testwait.For(t, within, fmt.Sprintf("record events %q", want), func() bool {
		var have []string
		for _, e := range r.list() {
			have = append(have, e.Type+"/"+e.Reason)
		}
		return slices.Equal(have, want)
	})
}

// flvDuration returns the duration onMetaData (the first tag) says.
func flvDuration(t *testing.T, tags []flv.Tag) float64 {
	t.Helper()
	if len(tags) < 2 || tags[0].Type != flv.TagScript {
		t.Fatalf("%d tags, no onMetaData first", len(tags))
	}
	i := bytes.Index(tags[0].Data, []byte("duration"))
	if i < 0 || len(tags[0].Data) < i+17 {
		t.Fatalf("onMetaData without a duration: %q", tags[0].Data)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(tags[0].Data[i+9:]))
}

// checkWAV asserts that the WAV file at path is complete: header sizes
// equal to what it holds (never more), and at least min seconds of it.
func checkWAV(t *testing.T, path string, min float64) float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 {
		t.Fatalf("%s: %d bytes", path, len(b))
	}
	data := int(binary.LittleEndian.Uint32(b[40:44]))
	if data != (len(b)-44)&^1 || int(binary.LittleEndian.Uint32(b[4:8])) != 36+data {
		t.Fatalf("%s: header says %d data bytes (RIFF %d), the file holds %d", path, data, binary.LittleEndian.Uint32(b[4:8]), len(b)-44)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("%s: mode %v, want 0640", path, fi.Mode().Perm())
	}
	secs := float64(data) / 2 / MixRate
	if secs < min {
		t.Fatalf("%s: %.2f s, want at least %.2f", path, secs, min)
	}
	return secs
}

// A recording whose directory is missing when the room starts tells the
// room's moderator (only), counts the error, and resumes into a new file
// once the directory exists; the room runs meanwhile.
func TestRecordUnwritableDirThenResumes(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	dir := filepath.Join(t.TempDir(), "missing")
	s := newTestService(t, Options{RecordDir: dir, Rooms: []RoomConfig{{Name: "r", Record: RecordWAV, Moderators: []string{"mod"}}}})
	var mod, plain recordEvents
	if _, _, err := s.Join("r", JoinOptions{User: "mod", Notify: mod.notify}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Join("r", JoinOptions{User: "bob", Notify: plain.notify}); err != nil {
		t.Fatal(err)
	}
	mod.waitFor(t, 5*time.Second, EvRecordFailed+"/"+RecordReasonNotWritable)
	if n := s.Stats.RecordErrors.Load(); n < 1 {
		t.Errorf("RecordErrors %d, want ≥ 1", n)
	}
	mixes := s.Stats.Mixes.Load()
	testwait.For(t, 5*time.Second, "the room mixing while unrecorded", func() bool { return s.Stats.Mixes.Load() > mixes+10 })
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	mod.waitFor(t, 10*time.Second, EvRecordFailed+"/"+RecordReasonNotWritable, EvRecordResumed+"/")
	if got := plain.list(); len(got) != 0 {
		t.Errorf("a member who is not a moderator was told %+v", got)
	}
	var files []string
	testwait.For(t, 5*time.Second, "a recording with 1 s of audio", func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "r-*.wav"))
		if len(files) != 1 {
			return false
		}
		b, _ := os.ReadFile(files[0])
		return len(b) > 44 && binary.LittleEndian.Uint32(b[40:44]) >= 2*MixRate
	})
	s.Close()
	checkWAV(t, files[0], 1)
}

// fillDisk mounts a tmpfs of size bytes on a new directory and fills it
// but for free bytes with a file it returns (removing it gives the space
// back). The test is skipped where mounting is not allowed.
func fillDisk(t *testing.T, size, free int) (dir, filler string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	filler = filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, size-free), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, filler
}

// A recording that fills the disk is closed with a header matching what
// it holds, the moderator is told (no_space) and the error counted; once
// space returns the recording resumes into a new file, which is complete
// when the room ends. Both formats.
func TestRecordFullDiskRecovers(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	for _, format := range []RecordFormat{RecordWAV, RecordFLV} {
		t.Run(string(format), func(t *testing.T) {
			free := 48 << 10 // WAV: 1.5 s of audio
			if format == RecordFLV {
				free = 12 << 10 // FLV: Speex at 28 kbit/s, 3.4 s
			}
			dir, filler := fillDisk(t, 256<<10, free)
			s := newTestService(t, Options{RecordDir: dir, Rooms: []RoomConfig{{Name: "full", Record: format, Moderators: []string{"mod"}}}})
			var mod recordEvents
			if _, _, err := s.Join("full", JoinOptions{User: "mod", Notify: mod.notify}); err != nil {
				t.Fatal(err)
			}
			a, _, err := s.Join("full", JoinOptions{User: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer wg.Wait()
			defer cancel()
			wg.Go(func() { talker(ctx, t, s.opts.Hub, a.PublishKey(), codec.Speex, 700) })
			mod.waitFor(t, 15*time.Second, EvRecordFailed+"/"+RecordReasonNoSpace)
			if n := s.Stats.RecordErrors.Load(); n < 1 {
				t.Errorf("RecordErrors %d, want ≥ 1", n)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "full-*."+string(format)))
			if len(files) != 1 {
				t.Fatalf("recordings after the disk filled: %v", files)
			}
			first := files[0]
			if format == RecordWAV {
				t.Logf("first file: %.2f s", checkWAV(t, first, 1))
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			mod.waitFor(t, 10*time.Second, EvRecordFailed+"/"+RecordReasonNoSpace, EvRecordResumed+"/")
			var second string
			testwait.For(t, 10*time.Second, "a second file with 1 s in it", func() bool {
				files, _ = filepath.Glob(filepath.Join(dir, "full-*."+string(format)))
				for _, f := range files {
					if fi, err := os.Stat(f); f != first && err == nil && fi.Size() > 16<<10 {
						second = f
						return true
					}
				}
				return false
			})
			cancel()
			s.Close()
			for _, f := range []string{first, second} {
				if format == RecordWAV {
					t.Logf("%s: %.2f s", filepath.Base(f), checkWAV(t, f, 0.5))
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				tags, err := flv.Parse(b) // the first one may end in a cut tag
				if f == second && err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				d := flvDuration(t, tags)
				last := float64(tags[len(tags)-1].Timestamp) / 1000
				t.Logf("%s: duration %.2f s, last tag at %.2f s", filepath.Base(f), d, last)
				if d < 0.5 || d > last+0.1 {
					t.Errorf("%s: onMetaData duration %.2f s, last whole tag at %.2f s", f, d, last)
				}
			}
		})
	}
}
