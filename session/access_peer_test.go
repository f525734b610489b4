package session_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/throttle"
)

// accessSecret keys the tokens of the access tests.
var accessSecret = []byte("access-test-secret-0123456789")

func accessToken(user string) string {
	return account.MintToken(accessSecret, user, time.Now().Add(time.Hour))
}

// startAccessStack runs "live" (open publish and play, default transcode
// policy: token) and "secure" (publish with the key of "cam", play with a
// token), tokens checked by account.Auth, guessing throttled.
func startAccessStack(t *testing.T, o teststack.Options) *teststack.Stack {
	t.Helper()
	auth := account.NewAuth(account.AuthOptions{Secret: accessSecret})
	guard := throttle.New(throttle.Options{FreeFailures: 1000})
	o.Apps = map[string]session.App{
		"live": &session.LiveApp{Publish: session.PolicyOpen, Play: session.PolicyOpen, Tokens: auth, Guard: guard},
		"secure": &session.LiveApp{Publish: session.PolicyKey, Play: session.PolicyToken,
			Keys: map[string]string{"cam": "s3cret-key"}, Tokens: auth, Guard: guard},
		"closed": &session.LiveApp{Publish: session.PolicyDeny, Play: session.PolicyDeny},
	}
	if o.Stats == nil {
		o.Stats = &session.Stats{}
	}
	return teststack.Start(t, o)
}

// toneFLV writes a Nellymoser FLV of secs seconds of a tone.
func toneFLV(t *testing.T, secs int) string {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	if err := audiotest.WriteWAV(wav, audiotest.Sine(16000, secs*16000, 600, 0.3), 16000); err != nil {
		t.Fatal(err)
	}
	flv := filepath.Join(dir, "tone.flv")
	audiotest.RunFFmpeg(t, "-i", wav, "-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", flv)
	return flv
}

// ffmpegPublish publishes flv in real time with ffmpeg's extra options.
func ffmpegPublish(t *testing.T, flv, url string, extra ...string) *testpeer.Proc {
	t.Helper()
	args := append([]string{"-hide_banner", "-loglevel", "error", "-re", "-i", flv, "-c", "copy"}, extra...)
	return testpeer.Start(t, 60*time.Second, "ffmpeg", append(args, "-f", "flv", url)...)
}

// rtmpdumpAudio plays for at most secs seconds with rtmpdump and returns
// the audio tags it wrote and its output.
func rtmpdumpAudio(t *testing.T, secs string, args ...string) ([][]byte, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "play.flv")
	log, _ := testpeer.Run(t, 20*time.Second, "timeout", append([]string{"-s", "INT", secs, "rtmpdump", "--live", "-o", out}, args...)...)
	tags, _ := testpeer.ReadFLV(out)
	return testpeer.AudioPayloads(tags), log
}

// TestPeerUnknownApplicationRefused: only listed applications exist;
// ffmpeg and rtmpdump asking for another are rejected at connect.
func TestPeerUnknownApplicationRefused(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	st := startAccessStack(t, teststack.Options{})
	out, err := testpeer.Run(t, 10*time.Second, "ffmpeg", "-hide_banner", "-i", st.URL("nosuchapp/x"), "-t", "1", "-f", "null", "-")
	if err == nil || !strings.Contains(out, "unknown application") {
		t.Fatalf("ffmpeg playing nosuchapp: want a connect rejected with \"unknown application\", got %v\n%s", err, out)
	}
	for _, app := range []string{"nosuchapp", "conf", "sipecho"} {
		audio, log := rtmpdumpAudio(t, "4", "-r", st.URL(app+"/x"))
		if len(audio) > 0 || !strings.Contains(log, "Connect.Rejected") && !strings.Contains(log, "rtmp server sent error") {
			t.Fatalf("rtmpdump on %s: %d audio tags, want a refused connect\n%s", app, len(audio), log)
		}
	}
	if !strings.Contains(st.Logs(), "unknown application") {
		t.Fatalf("the refusal is not logged:\n%s", st.Logs())
	}
}

// TestPeerAnonymousTranscodeRefused: an anonymous rtmpdump asking for
// ?codec=speex is refused and costs no transcoder; the same stream plays as
// published, and a player with a token may have it transcoded.
func TestPeerAnonymousTranscodeRefused(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	stats := &session.Stats{}
	st := startAccessStack(t, teststack.Options{Stats: stats})
	ffmpegPublish(t, toneFLV(t, 30), st.URL("live/a"))
	testwait.For(t, 10*time.Second, "ffmpeg publishes", func() bool { return st.Hub.Stats.Publishers.Load() == 1 })

	audio, log := rtmpdumpAudio(t, "3", "-r", st.URL("live"), "-y", "a?codec=speex")
	if len(audio) > 0 || !strings.Contains(log, "NetStream.Play.Failed") && !strings.Contains(log, "needs a signed-in user") {
		t.Errorf("anonymous ?codec=speex: %d audio tags, want a refused play\n%s", len(audio), log)
	}
	if n := st.Transcoder.Stats.Transcoders.Load(); n != 0 {
		t.Errorf("an anonymous player started %d transcoders", n)
	}
	if stats.TranscodeRefused.Load() == 0 {
		t.Errorf("the refusal is not counted")
	}
	audio, log = rtmpdumpAudio(t, "2", "-r", st.URL("live"), "-y", "a")
	if len(audio) == 0 || audio[0][0]>>4 != 4 {
		t.Fatalf("anonymous plain play: %d audio tags, want the published Nellymoser\n%s", len(audio), log)
	}
	audio, log = rtmpdumpAudio(t, "2", "-r", st.URL("live"), "-y", "a?codec=speex&token="+accessToken("alice"))
	if len(audio) == 0 || audio[0][0]>>4 != 11 {
		t.Fatalf("?codec=speex with a token: %d audio tags, want Speex\n%s", len(audio), log)
	}
}

// TestPeerTokenAndKeyPolicies: "secure" takes publishes with cam's key and
// plays with a token: the right secret is allowed, none or a wrong one is
// refused, in connect arguments, the tcUrl or the stream name alike.
func TestPeerTokenAndKeyPolicies(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	stats := &session.Stats{}
	st := startAccessStack(t, teststack.Options{Stats: stats})
	flv := toneFLV(t, 30)
	for _, bad := range []string{"secure/cam", "secure/cam?key=wrong-key1", "secure/other?key=s3cret-key", "closed/cam"} {
		out, err := testpeer.Run(t, 15*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", flv, "-c", "copy", "-f", "flv", st.URL(bad))
		if err == nil || st.Hub.Stats.Publishers.Load() != 0 {
			t.Fatalf("ffmpeg publishing %s: want a refusal, got %v\n%s", bad, err, out)
		}
	}
	ffmpegPublish(t, flv, st.URL("secure/cam?key=s3cret-key"))
	testwait.For(t, 10*time.Second, "ffmpeg publishes with the key", func() bool { return st.Hub.Stats.Publishers.Load() == 1 })

	wrong := accessToken("alice")
	wrong = wrong[:len(wrong)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(wrong, "0")]
	for name, args := range map[string][]string{
		"no token":            {"-r", st.URL("secure"), "-y", "cam"},
		"wrong token in name": {"-r", st.URL("secure"), "-y", "cam?token=" + wrong},
		"wrong connect token": {"-r", st.URL("secure"), "-y", "cam", "-C", "S:alice", "-C", "S:" + wrong},
		"another's token":     {"-r", st.URL("secure"), "-y", "cam", "-C", "S:bob", "-C", "S:" + accessToken("alice")},
		"denied app":          {"-r", st.URL("closed"), "-y", "cam", "-C", "S:alice", "-C", "S:" + accessToken("alice")},
	} {
		if audio, log := rtmpdumpAudio(t, "3", args...); len(audio) > 0 {
			t.Errorf("%s: rtmpdump heard %d audio tags\n%s", name, len(audio), log)
		}
	}
	for name, args := range map[string][]string{
		"connect token": {"-r", st.URL("secure"), "-y", "cam", "-C", "S:alice", "-C", "S:" + accessToken("alice")},
		"name token":    {"-r", st.URL("secure"), "-y", "cam?token=" + accessToken("alice")},
		"tcUrl token":   {"-r", st.URL("secure"), "-a", "secure?token=" + accessToken("alice"), "-y", "cam"},
	} {
		if audio, log := rtmpdumpAudio(t, "2", args...); len(audio) == 0 {
			t.Errorf("%s: rtmpdump heard nothing\n%s", name, log)
		}
	}
	if stats.AccessRefused.Load() == 0 {
		t.Errorf("refusals not counted")
	}
}

// TestPeerSecretsNotLogged: ffmpeg connects with a token in the tcUrl and
// publishes NAME?key=SECRET; neither secret reaches the server's log (at
// debug level), while the connect and publish are logged.
func TestPeerSecretsNotLogged(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	st := startAccessStack(t, teststack.Options{})
	token := accessToken("alice")
	p := ffmpegPublish(t, toneFLV(t, 3), st.URL("secure"), "-rtmp_app", "secure?token="+token, "-rtmp_playpath", "cam?key=s3cret-key")
	testwait.For(t, 10*time.Second, "ffmpeg publishes", func() bool { return st.Hub.Stats.Publishers.Load() == 1 })
	_ = p.Wait()
	logs := st.Logs()
	if !strings.Contains(logs, "msg=connected") || !strings.Contains(logs, "msg=publish") {
		t.Fatalf("connect and publish not logged:\n%s", logs)
	}
	for _, secret := range []string{"s3cret-key", token, token[strings.LastIndexByte(token, '.')+1:]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds a secret (%q):\n%s", secret, logs)
		}
	}
}

// TestTranscoderBudget: with a budget of one transcoder, a second codec is
// refused with a clear description while sharing the running one works.
func TestTranscoderBudget(t *testing.T) {
	stats := &session.Stats{}
	st := startAccessStack(t, teststack.Options{Stats: stats, MaxTranscoders: 1,
		Transcode: map[string]session.TranscodePolicy{"live": session.TranscodeOpen}})
	url := "rtmp://" + st.Addr + "/live"
	dialPlayer(t, url, "b?codec=speex")
	dialPlayer(t, url, "b?codec=speex") // shares it
	if n := st.Transcoder.Stats.Transcoders.Load(); n != 1 {
		t.Fatalf("%d transcoders, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Play(ctx, id, "b?codec=pcmu")
	if err == nil || !strings.Contains(err.Error(), "transcoding budget") {
		t.Fatalf("a second transcoder beyond the budget: %v", err)
	}
	if n := st.Transcoder.Stats.Transcoders.Load(); n != 1 || stats.TranscodeRefused.Load() != 1 {
		t.Fatalf("%d transcoders, %d refusals", n, stats.TranscodeRefused.Load())
	}
}

// TestTokenGuessingThrottled: after a few wrong tokens from one address,
// even the right one is refused for a while, with the wait in the answer.
func TestTokenGuessingThrottled(t *testing.T) {
	auth := account.NewAuth(account.AuthOptions{Secret: accessSecret})
	guard := throttle.New(throttle.Options{FreeFailures: 2, BaseDelay: time.Minute})
	st := teststack.Start(t, teststack.Options{Apps: map[string]session.App{
		"secure": &session.LiveApp{Publish: session.PolicyDeny, Play: session.PolicyToken, Tokens: auth, Guard: guard}}})
	try := func(token string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := rtmp.Dial(ctx, "rtmp://"+st.Addr+"/secure", rtmp.ClientOptions{ConnectArgs: []any{"alice", token}})
		if err != nil {
			return err
		}
		c.Close()
		return nil
	}
	for i := range 3 {
		if err := try("v1.alice.9999999999.00" + strings.Repeat("0", i)); err == nil {
			t.Fatalf("guess %d accepted", i)
		}
	}
	err := try(accessToken("alice"))
	var ce *rtmp.CallError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "retry in") {
		t.Fatalf("the right token after 3 wrong ones: want a throttled refusal, got %v", err)
	}
}
