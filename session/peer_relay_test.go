package session_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// relayCase is one published format: how ffmpeg makes the source FLV.
// Between them they send every FLV SoundFormat ffmpeg writes (0/3 PCM,
// 1 ADPCM, 2 and 14 MP3, 4/5/6 Nellymoser, 7/8 G.711, 10 AAC, 11 Speex):
// the hub holds bare codec packets, so each sound byte must be rebuilt.
type relayCase struct {
	name  string
	input []string // lavfi inputs
	codec []string
	video bool
}

var relayCases = []relayCase{
	{"nelly16k", sine(16000), []string{"-c:a", "nellymoser", "-ar", "16000", "-ac", "1"}, false},
	{"nelly8k", sine(8000), []string{"-c:a", "nellymoser", "-ar", "8000", "-ac", "1"}, false},
	{"speex16k", sine(16000), []string{"-c:a", "libspeex", "-ar", "16000", "-ac", "1"}, false},
	{"nelly22k", sine(22050), []string{"-c:a", "nellymoser", "-ar", "22050", "-ac", "1"}, false},
	{"pcmu", sine(8000), []string{"-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"}, false},
	{"pcma", sine(8000), []string{"-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"}, false},
	{"adpcm", sine(22050), []string{"-c:a", "adpcm_swf", "-ar", "22050", "-ac", "2"}, false},
	{"pcm16le", sine(11025), []string{"-c:a", "pcm_s16le", "-ar", "11025", "-ac", "1"}, false},
	{"pcm8", sine(5512), []string{"-c:a", "pcm_u8", "-ar", "5512", "-ac", "1"}, false},
	{"mp3", sine(44100), []string{"-c:a", "libmp3lame", "-ar", "44100", "-ac", "1", "-b:a", "64k"}, false},
	{"aac", sine(44100), []string{"-c:a", "aac", "-ar", "44100", "-ac", "1", "-b:a", "64k"}, false},
	{"h264aac", append(sine(44100), "-f", "lavfi", "-i", "testsrc=size=160x120:rate=15"),
		[]string{"-c:a", "aac", "-ar", "44100", "-ac", "1", "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p"}, true},
}

func sine(rate int) []string {
	return []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=%d", rate)}
}

// makeSource writes a 3-second FLV that ffmpeg then publishes with -c copy,
// so the published payloads are known byte for byte.
func makeSource(t *testing.T, dir string, c relayCase) string {
	t.Helper()
	src := filepath.Join(dir, c.name+".flv")
	args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, c.input...)
	args = append(args, c.codec...)
	// No duration in onMetaData: rtmpdump stops reading a live stream at the
	// announced duration, which would cut the last frame.
	args = append(args, "-t", "3", "-flvflags", "no_duration_filesize", "-f", "flv", src)
	if out, err := testpeer.Run(t, 60*time.Second, "ffmpeg", args...); err != nil {
		t.Fatalf("make source: %v\n%s", err, out)
	}
	return src
}

// relayThrough publishes src to url with ffmpeg while ffmpeg and rtmpdump
// play it (both started first and waiting), and returns the two recordings.
func relayThrough(t *testing.T, dir, url, src string, ready func() bool) (ffOut, rdOut string) {
	t.Helper()
	ffOut = filepath.Join(dir, "ffmpeg-play.flv")
	rdOut = filepath.Join(dir, "rtmpdump-play.flv")
	ff := testpeer.Start(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", url, "-c", "copy", "-f", "flv", ffOut)
	rd := testpeer.Start(t, 40*time.Second, "rtmpdump", "-q", "-r", url, "--live", "-o", rdOut)
	testwait.For(t, 10*time.Second, "both players to subscribe", ready)
	out, err := testpeer.Run(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", url)
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	// Both players stop by themselves on NetStream.Play.UnpublishNotify.
	for _, p := range []*testpeer.Proc{ff, rd} {
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop after the publisher left", p.Name)
			p.Stop()
		}
	}
	return ffOut, rdOut
}

// TestPeerFFmpegRelay publishes each format with ffmpeg and plays it with
// ffmpeg and rtmpdump through flashvox: the audio payloads must come out as
// they went in, in order, with timestamps that never go backwards.
func TestPeerFFmpegRelay(t *testing.T) {
	srv := startServer(t, rtmpConfig())
	sem := make(chan struct{}, 3) // 2 cores: three relays at a time
	for _, c := range relayCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			dir := t.TempDir()
			src := makeSource(t, dir, c)
			srcTags, err := testpeer.ReadFLV(src)
			if err != nil {
				t.Fatal(err)
			}
			key := "live/" + c.name
			ffOut, rdOut := relayThrough(t, dir, srv.URL(c.name), src, func() bool { return srv.Hub.SubscriberCount(key) == 2 })
			checkRecordingTail(t, "rtmpdump", srcTags, rdOut, false, c.video)
			// ffmpeg's FLV muxer writes its own sound-format byte (e.g. 0xB2
			// for Speex where the source had 0xB6), so compare after it.
			checkRecordingTail(t, "ffmpeg", srcTags, ffOut, true, c.video)
		})
	}
}

// checkRecordingTail is checkRecording allowing the very last frame to be
// missing: a player stops the moment it reads NetStream.Play.UnpublishNotify,
// and on a loaded machine (about one run in ten, rtmpdump or ffmpeg alike)
// the final frame of the stream was not written by it. Every payload it
// wrote must still be the published one, in order, byte for byte.
func checkRecordingTail(t *testing.T, who string, src []testpeer.Tag, path string, skipFirst, video bool) {
	t.Helper()
	tags, err := testpeer.ReadFLV(path)
	if err != nil {
		t.Fatalf("%s recording: %v", who, err)
	}
	want, got := testpeer.AudioPayloads(src), testpeer.AudioPayloads(tags)
	if len(got) == len(want)-1 {
		t.Logf("%s: the last of %d frames is missing", who, len(want))
		src = audioPrefix(src, len(got))
	}
	checkRecording(t, who, src, path, skipFirst, video)
}

func checkRecording(t *testing.T, who string, src []testpeer.Tag, path string, skipFirst, video bool) {
	t.Helper()
	tags, err := testpeer.ReadFLV(path)
	if err != nil {
		t.Fatalf("%s recording: %v", who, err)
	}
	equalPayloads(t, who, testpeer.AudioPayloads(src), testpeer.AudioPayloads(tags), skipFirst)
	last := map[uint8]uint32{}
	videos := 0
	for i, tag := range tags {
		if tag.Type == 9 {
			videos++
		}
		if tag.Type != 8 && tag.Type != 9 {
			continue
		}
		// Per track: a muxer may interleave audio and video a little out of order.
		if prev, ok := last[tag.Type]; ok && tag.Timestamp < prev {
			t.Fatalf("%s: type %d timestamp went back from %d to %d at tag %d", who, tag.Type, prev, tag.Timestamp, i)
		}
		last[tag.Type] = tag.Timestamp
	}
	if video && videos < 30 {
		t.Fatalf("%s: only %d video tags relayed", who, videos)
	}
}
