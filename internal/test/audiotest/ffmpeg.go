package audiotest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// FFmpegTimeout bounds every RunFFmpeg call.
const FFmpegTimeout = 60 * time.Second

// FFmpeg returns the path of the ffmpeg binary, failing the test with the
// install command when it is missing (tests against the reference never skip).
func FFmpeg(t testing.TB) string {
	t.Helper()
	return testpeer.Require(t, "ffmpeg")
}

// RunFFmpeg runs ffmpeg with args (after -hide_banner -loglevel error
// -nostdin -y) and returns its standard output; it fails the test on error,
// showing ffmpeg's standard error.
func RunFFmpeg(t testing.TB, args ...string) []byte {
	t.Helper()
	return RunFFmpegInput(t, nil, args...)
}

// RunFFmpegInput is RunFFmpeg with stdin fed from in (use "-i -" or "-i pipe:0").
func RunFFmpegInput(t testing.TB, in []byte, args ...string) []byte {
	t.Helper()
	bin := FFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), FFmpegTimeout)
	defer cancel()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	if in == nil {
		full = append([]string{"-nostdin"}, full...)
	}
	cmd := exec.CommandContext(ctx, bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// SpeexFLV encodes 16 kHz pcm with ffmpeg's libspeex into dir/src.flv, as
// ffmpeg publishers do, and returns its path. No duration in onMetaData:
// rtmpdump would stop at it.
func SpeexFLV(t testing.TB, dir string, pcm []int16) string {
	t.Helper()
	wav := filepath.Join(dir, "in.wav")
	if err := WriteWAV(wav, pcm, 16000); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.flv")
	RunFFmpeg(t, "-i", wav, "-c:a", "libspeex", "-ar", "16000", "-ac", "1",
		"-flvflags", "no_duration_filesize", "-f", "flv", src)
	return src
}
