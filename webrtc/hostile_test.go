//go:build cgo

package webrtc_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// TestHostileRequests: bodies are bounded, offers checked, sessions
// bounded per address and in total, and a session URL is needed to end one.
func TestHostileRequests(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{MaxSessions: 3, MaxSessionsPerIP: 2, ConnectTimeout: 30 * time.Second})
	offer := []byte(testpeer.PionOffer(t))
	for _, c := range []struct {
		name, path, ctype string
		body              []byte
		want              int
	}{
		{"oversized", "/live/a/whep", "application/sdp", bytes.Repeat([]byte("v=0\r\n"), 8<<10), http.StatusRequestEntityTooLarge},
		{"not sdp", "/live/a/whep", "text/plain", offer, http.StatusUnsupportedMediaType},
		{"garbage", "/live/a/whep", "application/sdp", []byte("v=0\r\nnonsense"), http.StatusBadRequest},
		{"no codec the edge speaks", "/live/a/whep", "application/sdp", []byte(noKnownCodec.Replace(string(offer))), http.StatusBadRequest},
		{"unknown app", "/nope/a/whep", "application/sdp", offer, http.StatusNotFound},
	} {
		if res, body := post(t, e.url+c.path, c.ctype, "", c.body); res.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, res.StatusCode, body, c.want)
		}
	}
	var locations []string
	for i := range 2 {
		res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", offer)
		if res.StatusCode != http.StatusCreated || res.Header.Get("Location") == "" {
			t.Fatalf("session %d: %d %s", i, res.StatusCode, body)
		}
		locations = append(locations, res.Header.Get("Location"))
	}
	if res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", offer); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third session from one address: %d %s, want 429", res.StatusCode, body)
	}
	// A guessed session URL ends nothing; the real one does.
	for _, c := range []struct {
		path string
		want int
	}{
		{"/live/a/whep/0123456789abcdef0123456789abcdef", http.StatusNotFound},
		{strings.Replace(locations[0], "/live/a/", "/live/b/", 1), http.StatusNotFound},
		{locations[0], http.StatusOK},
	} {
		req, _ := http.NewRequest("DELETE", e.url+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("DELETE %s: %d, want %d", c.path, res.StatusCode, c.want)
		}
	}
	if n := e.srv.Sessions(); n != 1 {
		t.Fatalf("%d sessions after one DELETE, want 1", n)
	}
}

// noKnownCodec renames every codec the edge speaks in an offer.
var noKnownCodec = strings.NewReplacer("opus/48000", "speex/16000", "PCMU/8000", "L16/8000", "PCMA/8000", "GSM/8000", "G722/8000", "iLBC/8000")

// TestNoCodecInCommon: an edge configured for Opus only refuses (400) an
// offer of G.711 alone, naming both sides' codecs.
func TestNoCodecInCommon(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{Codecs: []codec.ID{codec.Opus}})
	g711 := strings.ReplaceAll(testpeer.PionOffer(t), "opus/48000", "speex/16000")
	res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(g711))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no codec in common") {
		t.Fatalf("%d %q, want 400 no codec in common", res.StatusCode, body)
	}
}

// TestUnconnectedSessionsExpire: an answered offer whose ICE never
// connects gives its slot back after the connect timeout.
func TestUnconnectedSessionsExpire(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{ConnectTimeout: time.Second})
	if res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(testpeer.PionOffer(t))); res.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	testwait.For(t, 5*time.Second, "the unconnected session to end", func() bool { return e.srv.Sessions() == 0 })
}

// TestNoTranscoderBudget: with the transcode budget used up (here: none
// may start), a WHEP player in the stream's own codec still plays it (pass
// -through needs no transcoder), while a player in another codec is
// answered but closed at the first frame it would need transcoded, taking
// no transcoder.
func TestNoTranscoderBudget(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{MaxTranscoders: -1})
	pub, err := e.st.Hub.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	g711 := playRTP(t, codecAPI(t, pionPCMU), e.url+"/live/a/whep")
	res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("opus player: %d %q, want 201", res.StatusCode, body)
	}
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(g711.got()) >= 10 && e.srv.Sessions() == 1 })
	if n := e.st.Transcoder.Stats.Transcoders.Load(); n != 0 {
		t.Fatalf("%d transcoders running with none allowed", n)
	}
}

// TestWHIPNameInUse: WHIP to a name someone publishes gets 409 and takes
// nothing from the publisher.
func TestWHIPNameInUse(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	pub, err := e.st.Hub.Publish("live/busy")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	res, body := post(t, e.url+"/live/busy/whip", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("%d %q, want 409", res.StatusCode, body)
	}
	if n := e.srv.Sessions(); n != 0 || !e.st.Hub.Published("live/busy") {
		t.Fatalf("%d sessions left; published %v", n, e.st.Hub.Published("live/busy"))
	}
	// A name the hub's guard refuses (a cluster: published on another
	// node) gets the same 409, and nothing is published here.
	e.st.Hub.SetPublishGuard(func(key string) (func(*media.Publisher), error) {
		return nil, errors.New("published on another node of the cluster")
	})
	defer e.st.Hub.SetPublishGuard(nil)
	res, body = post(t, e.url+"/live/elsewhere/whip", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusConflict || e.st.Hub.Published("live/elsewhere") || e.srv.Sessions() != 0 {
		t.Fatalf("name held elsewhere: %d %q, want 409 (published %v)", res.StatusCode, body, e.st.Hub.Published("live/elsewhere"))
	}
}

// TestICEServerLinks: with the built-in STUN server on, the answer and
// OPTIONS carry Link headers naming it (as the clients reach it) and the
// configured ICE servers (RFC 9725 §4.6); a TURN URL is refused at start.
func TestICEServerLinks(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{STUNListen: "127.0.0.1:0", ICEServers: []string{"stun:stun.example.org:3478"}})
	want := []string{
		fmt.Sprintf(`<stun:127.0.0.1:%d>; rel="ice-server"`, e.srv.STUNAddr().Port),
		`<stun:stun.example.org:3478>; rel="ice-server"`,
	}
	res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusCreated || !slices.Equal(res.Header.Values("Link"), want) {
		t.Fatalf("%d %q: Link %q, want %q", res.StatusCode, body, res.Header.Values("Link"), want)
	}
	req, _ := http.NewRequest("OPTIONS", e.url+"/live/a/whip", nil)
	opt, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	opt.Body.Close()
	if !slices.Equal(opt.Header.Values("Link"), want) {
		t.Fatalf("OPTIONS Link %q, want %q", opt.Header.Values("Link"), want)
	}
	if _, err := fvrtc.New(fvrtc.Options{ICEServers: []string{"turn:turn.example.org"}}); err == nil {
		t.Fatal("a turn: URL accepted without credentials")
	}
}

// TestWHIPEndedByServer: a WHIP publication the server ends (media
// Publisher.End; in a cluster, the name went to another node's
// publisher) closes the session and frees the name.
func TestWHIPEndedByServer(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	got := make(chan *media.Publisher, 1)
	e.st.Hub.SetPublishGuard(func(key string) (func(*media.Publisher), error) {
		return func(p *media.Publisher) { got <- p }, nil
	})
	defer e.st.Hub.SetPublishGuard(nil)
	res, body := post(t, e.url+"/live/ended/whip", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusCreated || e.srv.Sessions() != 1 {
		t.Fatalf("%d %q, %d sessions; want 201 and one", res.StatusCode, body, e.srv.Sessions())
	}
	p := <-got
	if !p.End(errors.New("published on another node of the cluster")) {
		t.Fatal("the publication had ended already")
	}
	testwait.For(t, 5*time.Second, "the WHIP session closes", func() bool { return e.srv.Sessions() == 0 })
	if e.st.Hub.Published("live/ended") {
		t.Fatal("the name is still published")
	}
}
