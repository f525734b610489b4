package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// TestConvertBatch: three good files and one damaged one convert with
// --out-dir; the damaged one is reported, the others are written, exit 1.
func TestConvertBatch(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	if err := audiotest.WriteWAV(wav, audiotest.Sine(16000, 16000, 440, 0.3), 16000); err != nil {
		t.Fatal(err)
	}
	good := []string{wav}
	for _, c := range []struct{ name, codec string }{{"a.flv", "nellymoser"}, {"b.flv", "speex"}} {
		out := filepath.Join(dir, c.name)
		if code := run([]string{"convert", wav, out, "--codec", c.codec}, new(bytes.Buffer), new(bytes.Buffer)); code != 0 {
			t.Fatalf("convert %s: exit %d", c.name, code)
		}
		good = append(good, out)
	}
	// Damaged: an FLV whose last tag is cut in the middle.
	b, err := os.ReadFile(good[1])
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "cut.flv")
	if err := os.WriteFile(bad, b[:len(b)-40], 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	args := append([]string{"convert", "--out-dir", outDir}, good[1], bad, good[2], good[0])
	if code := run(args, &stdout, &stderr); code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, stdout.String(), stderr.String())
	}
	t.Logf("output:\n%s", stdout.String())
	for _, want := range []string{"a.wav", "b.wav", "tone.flv"} {
		if _, err := os.Stat(filepath.Join(outDir, want)); err != nil {
			t.Errorf("%s not converted: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outDir, "cut.wav")); !os.IsNotExist(err) {
		t.Error("the damaged file left an output")
	}
	if !strings.Contains(stdout.String(), "FAIL "+bad) || !strings.Contains(stdout.String(), "3 converted, 1 failed") {
		t.Errorf("report:\n%s", stdout.String())
	}
	if left, _ := filepath.Glob(filepath.Join(outDir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestConvertUsage(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"convert", "only-one.flv"}, &out, &out); code != exitConfig {
		t.Fatalf("exit %d", code)
	}
	if code := run([]string{"convert", "a.wav", "b.flv", "--codec", "vorbis"}, &out, &out); code != exitConfig {
		t.Fatalf("unknown codec: exit %d", code)
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "x.wav")
	if err := audiotest.WriteWAV(wav, make([]int16, 800), 8000); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"convert", wav, filepath.Join(dir, "x.flv"), "--codec", "g722"}, &out, &out); code != exitFail || !strings.Contains(out.String(), "no FLV SoundFormat") {
		t.Fatalf("g722: exit %d: %s", code, out.String())
	}
}
