//go:build cgo

package webrtc_test

import (
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

var turnLink = regexp.MustCompile(`^<(turn:[^>]+)>; rel="ice-server"; username="([^"]+)"; credential="([^"]+)"; credential-type="password"$`)

// turnCreds asks OPTIONS at url for the TURN Link header.
func turnCreds(t *testing.T, url string) (uri, user, pass string) {
	t.Helper()
	req, _ := http.NewRequest("OPTIONS", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, l := range res.Header.Values("Link") {
		if m := turnLink.FindStringSubmatch(l); m != nil {
			return m[1], m[2], m[3]
		}
	}
	t.Fatalf("no TURN Link header in %q", res.Header.Values("Link"))
	return "", "", ""
}

// TestTURNRelay: a pion player allowed only relay candidates, configured
// with the credentials of the OPTIONS answer, plays a stream through the
// built-in TURN server.
func TestTURNRelay(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{TURNListen: "127.0.0.1:0"})
	uri, user, pass := turnCreds(t, e.url+"/live/r/whep")
	playRelayed(t, e, "live/r", pionwebrtc.ICEServer{URLs: []string{uri}, Username: user, Credential: pass})
}

// playRelayed plays key through a pion player allowed only relay
// candidates of ice, and checks the frames came over a relay.
func playRelayed(t *testing.T, e *edge, key string, ice pionwebrtc.ICEServer) {
	t.Helper()
	pub, err := e.st.Hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	api := codecAPI(t, pionPCMU)
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{
		ICEServers:         []pionwebrtc.ICEServer{ice},
		ICETransportPolicy: pionwebrtc.ICETransportPolicyRelay,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p, tr := recvRTP(t, pc)
	negotiate(t, pc, e.url+"/"+key+"/whep")
	publishFrames(t, pub, codec.PCMU, 8000, numbered, func() bool { return len(p.got()) >= 10 })
	pair, err := tr.Receiver().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Typ != pionwebrtc.ICECandidateTypeRelay {
		t.Fatalf("selected pair %v %v, want a relay candidate", pair, err)
	}
}

// turnClient allocates on the TURN server at addr with user and pass.
func turnClient(t *testing.T, addr, user, pass string) (net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Conn: conn, Username: user, Password: pass, Realm: "flashvox", RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c.Allocate()
}

// TestTURNHostile: a wrong or expired credential gets no relay, and a
// relay cannot reach any peer but the server's own ICE address.
func TestTURNHostile(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{TURNListen: "127.0.0.1:0"})
	addr := e.srv.TURNAddr().String()
	_, user, pass := turnCreds(t, e.url+"/live/h/whep")
	if _, err := turnClient(t, addr, user, pass+"x"); err == nil {
		t.Fatal("a wrong password got a relay")
	}
	expired, epass, err := turn.GenerateLongTermTURNRESTCredentials("guess", "x", -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := turnClient(t, addr, expired, epass); err == nil {
		t.Fatal("an expired credential of a guessed secret got a relay")
	}
	relay, err := turnClient(t, addr, user, pass)
	if err != nil {
		t.Fatalf("the issued credential: %v", err)
	}
	defer relay.Close()
	if _, err := relay.WriteTo([]byte("hi"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}); err == nil {
		t.Fatal("the relay sent to a foreign peer")
	}
	if _, err := relay.WriteTo([]byte("hi"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != nil {
		t.Fatalf("the relay refused the server's own address: %v", err)
	}
	if n := e.srv.TURNAllocations(); n != 1 {
		t.Fatalf("%d allocations, want 1", n)
	}
}
