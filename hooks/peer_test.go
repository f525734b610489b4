package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/hooks"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/teststack"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// site is a site's hook service: policy answers each form; every form is kept.
type site struct {
	mu    sync.Mutex
	forms []url.Values
}

func (s *site) calls(call string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, f := range s.forms {
		if f.Get("call") == call {
			out = append(out, f)
		}
	}
	return out
}

// startStack runs the RTMP stack with every hook pointing at a site that
// answers with policy.
func startStack(t *testing.T, timeout time.Duration, policy func(w http.ResponseWriter, f url.Values)) (*teststack.Stack, *site) {
	t.Helper()
	s := &site{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.mu.Unlock()
		policy(w, r.PostForm)
	}))
	t.Cleanup(srv.Close)
	st := teststack.Start(t, teststack.Options{Hooks: hooks.New(hooks.Options{
		OnConnect: srv.URL + "/connect", OnPublish: srv.URL + "/publish", OnPlay: srv.URL + "/play", Timeout: timeout,
	})})
	return st, s
}

// ffmpegPublish is the argument list publishing secs of a 440 Hz tone to url.
func ffmpegPublish(url string, secs string, extra ...string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000",
		"-t", secs, "-c:a", "nellymoser", "-ar", "16000", "-ac", "1"}
	args = append(args, extra...)
	return append(args, "-f", "flv", url)
}

// rtmpdumpAudio plays url live for two seconds and returns the audio frames.
func rtmpdumpAudio(t *testing.T, url string) int {
	t.Helper()
	out := filepath.Join(t.TempDir(), "play.flv")
	// --stop ends a live download early, which rtmpdump reports as an
	// incomplete download: the file decides.
	log, runErr := testpeer.Run(t, 20*time.Second, "rtmpdump", "-r", url, "--live", "--stop", "2", "-o", out)
	tags, err := testpeer.ReadFLV(out)
	if err != nil {
		t.Fatalf("rtmpdump output: %v (rtmpdump: %v)\n%s", err, runErr, log)
	}
	return len(testpeer.AudioPayloads(tags))
}

// TestPeerFFmpegPublishHook: ffmpeg publishing a name the site denies fails
// with the hook's reason; an allowed name publishes, and the site saw
// nginx-rtmp's fields.
func TestPeerFFmpegPublishHook(t *testing.T) {
	st, s := startStack(t, 2*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("call") == "publish" && f.Get("name") != "allowed" {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/denied", "1")...)
	if err == nil {
		t.Fatalf("publishing a denied name must fail; ffmpeg said:\n%s", out)
	}
	if !strings.Contains(out, "denied by the on_publish hook (HTTP 403)") {
		t.Fatalf("ffmpeg must report the hook's reason:\n%s", out)
	}
	if out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/allowed?token=t1", "1")...); err != nil {
		t.Fatalf("allowed publish: %v\n%s", err, out)
	}
	pubs := s.calls("publish")
	if len(pubs) != 2 {
		t.Fatalf("%d publish hooks, want 2", len(pubs))
	}
	f := pubs[1]
	for k, v := range map[string]string{"app": "live", "name": "allowed", "type": "live", "token": "t1", "addr": "127.0.0.1"} {
		if f.Get(k) != v {
			t.Errorf("publish form %s=%q, want %q (%v)", k, f.Get(k), v, f)
		}
	}
	if !strings.HasPrefix(f.Get("flashver"), "FMLE/") || !strings.HasPrefix(f.Get("tcurl"), "rtmp://") || f.Get("clientid") == "" {
		t.Errorf("publish form lacks ffmpeg's connect fields: %v", f)
	}
	if len(s.calls("connect")) != 2 {
		t.Errorf("want one connect hook per ffmpeg")
	}
}

// TestPeerPlayHook: rtmpdump playing a denied name fails with
// NetStream.Play.Failed; an allowed one gets the audio.
func TestPeerPlayHook(t *testing.T) {
	st, _ := startStack(t, 2*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("call") == "play" && f.Get("name") != "open" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	testpeer.Start(t, 60*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/open", "8")...)
	testwait.For(t, 10*time.Second, "publisher", func() bool { return st.Hub.Published("live/open") })

	log, err := testpeer.Run(t, 20*time.Second, "rtmpdump", "-r", st.URL("live")+"/closed", "--live", "--stop", "2", "-o", filepath.Join(t.TempDir(), "x.flv"))
	if err == nil && !strings.Contains(log, "NetStream.Play.Failed") {
		t.Fatalf("playing a denied name must fail; rtmpdump said:\n%s", log)
	}
	if !strings.Contains(log, "NetStream.Play.Failed") {
		t.Errorf("rtmpdump must see NetStream.Play.Failed:\n%s", log)
	}
	if n := st.Hub.SubscriberCount("live/closed"); n != 0 {
		t.Errorf("%d subscribers of a denied name", n)
	}
	if n := rtmpdumpAudio(t, st.URL("live")+"/open"); n < 10 {
		t.Fatalf("allowed play got %d audio frames", n)
	}
}

// TestPeerRedirectRenamesPublish: the site answers on_publish for "alias"
// with 302 Location: real; ffmpeg's stream is published as live/real and a
// player of "real" hears it.
func TestPeerRedirectRenamesPublish(t *testing.T) {
	st, _ := startStack(t, 2*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("call") == "publish" && f.Get("name") == "alias" {
			w.Header().Set("Location", "real")
			w.WriteHeader(http.StatusFound)
		}
	})
	testpeer.Start(t, 60*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/alias", "8")...)
	testwait.For(t, 10*time.Second, "live/real to be published", func() bool { return st.Hub.Published("live/real") })
	if st.Hub.Published("live/alias") {
		t.Fatal("the requested name was published too")
	}
	if n := rtmpdumpAudio(t, st.URL("live")+"/real"); n < 10 {
		t.Fatalf("player of the new name got %d audio frames", n)
	}
}

// TestPeerConnectHook: on_connect gets the connection's query-string
// arguments; ffmpeg without the right key is rejected, with it publishes.
func TestPeerConnectHook(t *testing.T) {
	st, _ := startStack(t, 2*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("call") == "connect" && f.Get("key") != "secret" {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	url := st.URL("live") + "/cam"
	out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", ffmpegPublish(url, "1", "-rtmp_app", "live?key=wrong", "-rtmp_playpath", "cam")...)
	if err == nil {
		t.Fatalf("connect with a wrong key must fail; ffmpeg said:\n%s", out)
	}
	// ffmpeg does not print a connect _error's description; the log has it.
	if !strings.Contains(st.Logs(), `why="denied by the on_connect hook (HTTP 403)"`) {
		t.Fatalf("the server must log the hook's refusal")
	}
	if out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", ffmpegPublish(url, "1", "-rtmp_app", "live?key=secret", "-rtmp_playpath", "cam")...); err != nil {
		t.Fatalf("connect with the key: %v\n%s", err, out)
	}
}

// TestPeerSlowHookBlocksOnlyItsConnection: while the site sits on one
// publisher's hook, another ffmpeg connects and publishes normally.
func TestPeerSlowHookBlocksOnlyItsConnection(t *testing.T) {
	release := make(chan struct{})
	asked := make(chan struct{}, 1)
	st, _ := startStack(t, 10*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("call") == "publish" && f.Get("name") == "slow" {
			asked <- struct{}{}
			<-release
		}
	})
	defer close(release)
	testpeer.Start(t, 60*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/slow", "20")...)
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow publisher's hook was never asked")
	}
	start := time.Now()
	if out, err := testpeer.Run(t, 20*time.Second, "ffmpeg", ffmpegPublish(st.URL("live")+"/fast", "1")...); err != nil {
		t.Fatalf("second publisher: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second publisher took %s", d)
	}
	if st.Hub.Published("live/slow") {
		t.Fatal("slow publisher published before its hook answered")
	}
}
