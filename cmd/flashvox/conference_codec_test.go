package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// flvSoundFormats returns the SoundFormat (the codec: 4 Nellymoser 16 kHz,
// 11 Speex, ...) of every audio tag of the FLV at path, in order.
func flvSoundFormats(t *testing.T, path string) []byte {
	t.Helper()
	tags, err := testpeer.ReadFLV(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []byte
	for _, p := range testpeer.AudioPayloads(tags) {
		out = append(out, p[0]>>4)
	}
	return out
}

// TestPeerConferenceMixOneCodec: alice joins a mixed room
// over HTTP naming no codec, and her mix is played over RTMP from before
// her own codec is known (rtmpdump keeps every tag as sent, ffmpeg decodes
// it); then she publishes Nellymoser. Every tag of her mix stays in one
// codec (conference.codec, Speex) and ffmpeg decodes bob's tone from it to
// the end of its 6 s, where a mid-stream switch to Nellymoser left ffmpeg
// with a second stream it never output, hanging. bob names nellymoser in
// his join and hears Nellymoser in every tag.
func TestPeerConferenceMixOneCodec(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	testpeer.Require(t, "ffmpeg")
	srv := startFlashvox(t)
	alice, bob := srv.login(t, "alice"), srv.login(t, "bob")
	type joined struct{ Member, Publish, Play, Mode string }
	var ja, jb joined
	if code := alice.do("POST", "/conferences/codecmix/join", `{"mode":"mixed"}`, &ja); code != 200 || ja.Play == "" {
		t.Fatalf("alice join: %d %+v", code, ja)
	}
	if code := bob.do("POST", "/conferences/codecmix/join", `{"codec":"nellymoser"}`, &jb); code != 200 || jb.Play == "" {
		t.Fatalf("bob join: %d %+v", code, jb)
	}
	if code := bob.do("POST", "/conferences/codecmix/join", `{"codec":"g722"}`, nil); code != 400 {
		t.Errorf("a join naming g722 (no FLV codec): %d, want 400 bad_codec", code)
	}
	dir := t.TempDir()
	rtmpHost := strings.TrimPrefix(srv.phoneURL, "rtmp://")
	rtmpHost = rtmpHost[:strings.IndexByte(rtmpHost, '/')]
	dump := func(u *httpUser, user, play, out string) *testpeer.Proc {
		return testpeer.Start(t, 60*time.Second, "rtmpdump", "-r", srv.phoneURL, "-y", play,
			"-C", "S:"+user, "-C", "S:"+u.token, "--live", "-o", out)
	}
	aliceFLV, bobFLV := filepath.Join(dir, "alice.flv"), filepath.Join(dir, "bob.flv")
	aliceDump, bobDump := dump(alice, "alice", ja.Play, aliceFLV), dump(bob, "bob", jb.Play, bobFLV)
	aliceWAV := filepath.Join(dir, "alice.wav")
	ff := testpeer.Start(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "warning", "-y",
		"-rtmp_conn", "S:alice S:"+alice.token, "-i", "rtmp://"+rtmpHost+"/phone/"+ja.Play, "-t", "6", "-f", "wav", aliceWAV)
	testwait.For(t, 15*time.Second, "alice's mix reaches rtmpdump before she talks", func() bool { return flvAudio(aliceFLV) > 10 })

	// 20 ms packets: ffmpeg -re paces by input packet, and a WAV file's
	// 128 ms packets would reach the mixer in bursts longer than its
	// jitter buffer keeps (docs/PROTOCOL.md "Mixing, jitter and late audio").
	publish := func(u *httpUser, user, name string, freq float64) {
		tone := fmt.Sprintf("sine=frequency=%v:sample_rate=16000:samples_per_frame=320:duration=20", freq)
		testpeer.Start(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", tone,
			"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-rtmp_conn", "S:"+user+" S:"+u.token,
			"-f", "flv", "rtmp://"+rtmpHost+"/phone/"+name)
	}
	publish(bob, "bob", jb.Publish, 700)
	publish(alice, "alice", ja.Publish, 430)

	select {
	case <-ff.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("ffmpeg playing alice's mix did not finish its 6 s in 30 s (a codec switch mid-stream?)\n%s", ff.Output())
	}
	if err := ff.Wait(); err != nil {
		t.Fatalf("ffmpeg playing alice's mix: %v\n%s", err, ff.Output())
	}
	// rtmpdump has been listening since before alice talked: 100 more tags
	// (2 s) after ffmpeg's end are well into her Nellymoser audio.
	n := flvAudio(aliceFLV)
	testwait.For(t, 10*time.Second, "100 more tags of alice's mix", func() bool { return flvAudio(aliceFLV) > n+100 })
	aliceDump.Interrupt()
	bobDump.Interrupt()
	<-aliceDump.Done()
	<-bobDump.Done()

	for _, c := range []struct {
		who, path string
		want      byte
	}{{"alice (no codec named: conference.codec)", aliceFLV, 11}, {"bob (nellymoser)", bobFLV, 4}} {
		formats := flvSoundFormats(t, c.path)
		if len(formats) < 100 {
			t.Fatalf("%s: %d audio tags", c.who, len(formats))
		}
		for i, f := range formats {
			if f != c.want {
				t.Fatalf("%s: audio tag %d of %d has SoundFormat %d, want all %d (first tags %v)", c.who, i, len(formats), f, c.want, formats[:min(len(formats), 20)])
			}
		}
		t.Logf("%s: %d audio tags, all SoundFormat %d", c.who, len(formats), c.want)
	}

	pcm, rate, err := audiotest.ReadWAV(aliceWAV)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) < 5*rate {
		t.Fatalf("ffmpeg decoded %d samples (%d Hz) of alice's mix, want 6 s", len(pcm), rate)
	}
	// The last second, in 20 ms windows: bob talks by then even when a
	// loaded machine starts his publisher seconds late. His tone is
	// ffmpeg's sine at −18 dB; a mix whose listener's decoder was moved
	// between encoders came out up to 12 dB louder with noise across the
	// band, her own 430 Hz at −25 dB among it (conference/shared.go).
	tail := pcm[len(pcm)-rate:]
	bobDB, aliceDB := audiotest.MedianToneDB(tail, rate, 700), audiotest.MedianToneDB(tail, rate, 430)
	t.Logf("alice's mix as ffmpeg decoded it: %d samples at %d Hz; last second: bob's 700 Hz %.1f dB, her own 430 Hz %.1f dB", len(pcm), rate, bobDB, aliceDB)
	if bobDB < -21 || bobDB > -15 || bobDB-aliceDB < 20 {
		t.Errorf("last second of alice's mix: bob's tone at %.1f dB, her own at %.1f dB", bobDB, aliceDB)
	}
}
