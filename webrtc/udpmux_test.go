//go:build cgo

package webrtc_test

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	pionwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/flashvox/flashvox/internal/test/testwait"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// freeUDPPort is a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

var candRE = regexp.MustCompile(`a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host`)

// TestUDPMuxSharedSocket: with UDPMuxPort every session's ICE runs on one
// socket: a WHEP player's answer has one host candidate, the ICE address
// and that port, and the player gets a WHIP publisher's packets, both
// sessions on that socket. A stranger's datagrams to the port (garbage, a
// STUN request for an unknown ufrag, one naming the player's ufrag
// without its password) get no answer and do not disturb the sessions.
func TestUDPMuxSharedSocket(t *testing.T) {
	port := freeUDPPort(t)
	e := startEdge(t, nil, fvrtc.Options{Engine: fvrtc.EnginePion, UDPMuxPort: port})
	if a := e.srv.UDPMuxAddr(); a == nil || a.Port != int(port) || !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("mux address %v, want 127.0.0.1:%d", a, port)
	}
	api := loopbackAPI()
	track := whipClient(t, api, e.url+"/live/mux/whip")
	pc, err := api.NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(pionwebrtc.RTPCodecTypeAudio, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1000)
	pc.OnTrack(func(tr *pionwebrtc.TrackRemote, _ *pionwebrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case got <- len(p.Payload):
			default:
			}
		}
	})
	negotiate(t, pc, e.url+"/live/mux/whep")
	answer := pc.RemoteDescription().SDP
	cands := candRE.FindAllStringSubmatch(answer, -1)
	if len(cands) != 1 || cands[0][1] != "127.0.0.1" || cands[0][2] != strconv.Itoa(int(port)) {
		t.Fatalf("the player's answer has host candidates %v, want one, 127.0.0.1 %d", cands, port)
	}
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(answer)
	if ufrag == nil {
		t.Fatal("no ice-ufrag in the answer")
	}

	// A stranger knocks on the shared port.
	stranger, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	for _, user := range []string{"nosuchufrag:x", ufrag[1] + ":x"} {
		m := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(user),
			stun.NewShortTermIntegrity("not the password"), stun.Fingerprint)
		if _, err := stranger.Write(m.Raw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stranger.Write([]byte("\x80\x00 not a session's packet")); err != nil {
		t.Fatal(err)
	}

	sent := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	received := 0
	testwait.For(t, 15*time.Second, "the player gets 50 packets through the shared socket", func() bool {
		<-tick.C
		sent++
		if err := track.WriteSample(pmedia.Sample{Data: []byte{0xfc, byte(sent)}, Duration: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		for len(got) > 0 {
			<-got
			received++
		}
		return received >= 50
	})
	// The stranger got nothing back: pion answers only a request that
	// passes a session's MESSAGE-INTEGRITY.
	_ = stranger.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1500)
	if n, err := stranger.Read(buf); err == nil {
		t.Fatalf("the stranger got a %d-byte answer from the shared socket", n)
	}
}

// TestUDPMuxExcludesPortRange: a mux port with a port range, or with
// STUN servers (srflx candidates on sockets of their own), is refused at
// New.
func TestUDPMuxExcludesPortRange(t *testing.T) {
	_, err := fvrtc.New(fvrtc.Options{UDPMuxPort: 40000, UDPPortMin: 40001, UDPPortMax: 40010})
	if err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Fatalf("New with a mux port and a port range: %v, want refused", err)
	}
	_, err = fvrtc.New(fvrtc.Options{UDPMuxPort: 40000, STUNServers: []string{"stun:127.0.0.1:3478"}})
	if err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Fatalf("New with a mux port and STUN servers: %v, want refused", err)
	}
}
