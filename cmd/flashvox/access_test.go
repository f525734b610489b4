package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// eavesdropConfig has a relay room with a PIN, moderated by alice; eve is
// a signed-in user who is not a member. Only keys every version knows, so
// the test also runs against the code before the access model.
const eavesdropConfig = `users:
  - {name: alice, password: alice}
  - {name: bob, password: bob}
  - {name: eve, password: eve}
conference:
  rooms:
    - {name: board, mode: relay, pin: "4321", moderators: [alice]}
`

// TestPeerConferenceEavesdrop is the critical eavesdropping finding, with real
// processes: alice (ffmpeg, logged in) talks in a relay room that has a PIN
// and is locked; bob, a member, listens with rtmpdump. eve, signed in but
// no member, lists the rooms: she must not learn a stream name. With the
// name (an attacker who learned it some other way, or bob after his kick),
// rtmpdump without a login must hear nothing over RTMP and RTMPT, nor
// rtmfp-cpp's tcconn over RTMFP; bob's own play is cut by his kick at
// once, and a new play of his is refused.
func TestPeerConferenceEavesdrop(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	for _, bin := range []string{"ffmpeg", "rtmpdump", "timeout", "stdbuf"} {
		testpeer.Require(t, bin)
	}
	tcconn := filepath.Join(testpeer.RTMFPTools(t), "tcconn")
	cfg := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(cfg, []byte(eavesdropConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	udp := fmt.Sprintf("127.0.0.1:%d", testpeer.FreePort(t))
	s := startFlashvoxWith(t, []string{"FLASHVOX_RTMFP_LISTEN=" + udp}, "--config", cfg)
	rtmpHost := strings.TrimPrefix(strings.TrimSuffix(s.phoneURL, "/phone"), "rtmp://")
	api, _ := url.Parse(s.api)
	alice, bob, eve := s.login(t, "alice"), s.login(t, "bob"), s.login(t, "eve")

	type member struct{ ID, User, Play string }
	var ja struct{ Member, Publish string }
	if code := alice.do("POST", "/conferences/board/join", `{"pin":"4321"}`, &ja); code != 200 {
		t.Fatalf("alice join: %d", code)
	}
	var jb struct {
		Member  string
		Members []member
	}
	if code := bob.do("POST", "/conferences/board/join", `{"pin":"4321"}`, &jb); code != 200 || len(jb.Members) != 1 || jb.Members[0].Play == "" {
		t.Fatalf("bob join: %d %+v", code, jb)
	}
	aliceStream := jb.Members[0].Play // what bob plays: alice's voice
	if code := alice.do("POST", "/conferences/board/lock", "", nil); code != 200 {
		t.Fatalf("lock: %d", code)
	}
	if code := eve.do("POST", "/conferences/board/join", `{"pin":"0000"}`, nil); code != 403 {
		t.Fatalf("eve joined with a wrong PIN: %d", code)
	}

	// The listing tells any signed-in user who is in, never a stream name.
	for _, path := range []string{"/conferences", "/conferences/board"} {
		var raw map[string]any
		if code := eve.do("GET", path, "", &raw); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		if body := fmt.Sprint(raw); strings.Contains(body, aliceStream) || strings.Contains(body, ja.Publish) {
			t.Errorf("GET %s shows a stream name to eve, who is no member: %s", path, body)
		}
	}

	// alice talks: ffmpeg publishes her issued name, logged in with her token.
	tone := writeConfTone(t, 700, 16000, 60)
	testpeer.Start(t, 90*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", tone,
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-rtmp_conn", "S:alice S:"+alice.token,
		"-f", "flv", "rtmp://"+rtmpHost+"/phone/"+ja.Publish)

	// bob hears her, through the phone app, with his login.
	dir := t.TempDir()
	bobFLV := filepath.Join(dir, "bob.flv")
	bobPlay := testpeer.Start(t, 60*time.Second, "rtmpdump", "-r", "rtmp://"+rtmpHost+"/phone", "-y", aliceStream,
		"-C", "S:bob", "-C", "S:"+bob.token, "--live", "-o", bobFLV)
	testwait.For(t, 15*time.Second, "bob hears alice", func() bool { return flvAudio(bobFLV) > 10 })

	// The attacks without any login, before the kick.
	attacks := func(when string) {
		t.Helper()
		for _, a := range []struct{ name, url string }{
			{"rtmp conf app", "rtmp://" + rtmpHost + "/conf/" + aliceStream},
			{"rtmpt conf app", "rtmpt://" + api.Host + "/conf/" + aliceStream},
			{"rtmp live app", "rtmp://" + rtmpHost + "/live/" + aliceStream},
			{"rtmp phone app", "rtmp://" + rtmpHost + "/phone/" + aliceStream},
		} {
			out := filepath.Join(dir, strings.ReplaceAll(when+a.name, " ", "_")+".flv")
			log, _ := testpeer.Run(t, 10*time.Second, "timeout", "-s", "INT", "4", "rtmpdump", "-r", a.url, "--live", "-o", out)
			if n := flvAudio(out); n > 0 {
				t.Errorf("%s, %s: rtmpdump without login heard %d audio tags of the locked room\n%s", when, a.name, n, log)
			}
		}
		log, _ := testpeer.Run(t, 10*time.Second, "timeout", "-s", "INT", "4", "stdbuf", "-oL", tcconn,
			"rtmfp://"+udp+"/conf#"+aliceStream)
		if n := strings.Count(log, "onAudio"); n > 0 {
			t.Errorf("%s, rtmfp conf app: tcconn without login heard %d audio messages of the locked room", when, n)
		}
	}
	attacks("before the kick")

	// alice kicks bob: his running play ends at once, a new one is refused.
	if code := alice.do("POST", "/conferences/board/members/"+jb.Member+"/kick", "", nil); code != 200 {
		t.Fatalf("kick: %d", code)
	}
	kicked := time.Now()
	select {
	case <-bobPlay.Done():
		t.Logf("bob's play ended %v after the kick", time.Since(kicked).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Errorf("bob still plays the room 5 s after his kick (%d audio tags)", flvAudio(bobFLV))
	}
	again := filepath.Join(dir, "bob-again.flv")
	log, _ := testpeer.Run(t, 10*time.Second, "timeout", "-s", "INT", "4", "rtmpdump", "-r", "rtmp://"+rtmpHost+"/phone", "-y", aliceStream,
		"-C", "S:bob", "-C", "S:"+bob.token, "--live", "-o", again)
	if n := flvAudio(again); n > 0 {
		t.Errorf("bob, kicked, played the room again: %d audio tags\n%s", n, log)
	}
	attacks("after the kick")
}

// flvAudio counts the audio tags of an FLV file (0 when there is none).
func flvAudio(path string) int {
	tags, err := testpeer.ReadFLV(path)
	if err != nil {
		return 0
	}
	return len(testpeer.AudioPayloads(tags))
}

// TestPeerOpenByDefault runs the binary on its embedded defaults (as the
// README's quick start does): the quick start works on loopback; an
// unknown application is refused; an anonymous player's ?codec=speex is
// refused, starts no transcoder and is counted; a token in the tcUrl and
// a stream key in the name never reach the log.
func TestPeerOpenByDefault(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	testpeer.Require(t, "timeout")
	s := startFlashvox(t)
	host := strings.TrimPrefix(strings.TrimSuffix(s.phoneURL, "/phone"), "rtmp://")
	token := s.login(t, "alice").token
	tone := writeConfTone(t, 600, 16000, 60)

	// The quick start: ffmpeg publishes live/test (here with a token in the
	// tcUrl and a key in the name, which live ignores but the log must not show).
	testpeer.Start(t, 90*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", tone,
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-rtmp_app", "live?token="+token, "-rtmp_playpath", "test?key=SECRETKEY42",
		"-f", "flv", "rtmp://"+host+"/live/test")
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.flv")
	testpeer.Start(t, 30*time.Second, "rtmpdump", "-r", "rtmp://"+host+"/live/test", "--live", "-o", plain)
	testwait.For(t, 15*time.Second, "rtmpdump hears live/test", func() bool { return flvAudio(plain) > 10 })

	speex := filepath.Join(dir, "speex.flv")
	log, _ := testpeer.Run(t, 10*time.Second, "timeout", "-s", "INT", "3", "rtmpdump", "-r", "rtmp://"+host+"/live", "-y", "test?codec=speex", "--live", "-o", speex)
	if n := flvAudio(speex); n > 0 {
		t.Errorf("an anonymous player had live/test transcoded to Speex (%d tags)\n%s", n, log)
	}
	metrics := httpGet(t, strings.TrimSuffix(s.api, "/api/v1")+"/metrics")
	for _, want := range []string{"flashvox_transcoders 0", "flashvox_transcode_refused_total 1"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	out, err := testpeer.Run(t, 10*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", tone, "-t", "2",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+host+"/nosuchapp/test")
	if err == nil || !strings.Contains(out, "unknown application") {
		t.Errorf("ffmpeg published to nosuchapp: want a refused connect, got %v\n%s", err, out)
	}
	logs := s.logs.String()
	for _, secret := range []string{token, "SECRETKEY42"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log holds a secret %q", secret)
		}
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
