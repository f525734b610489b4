package sipbridge

import (
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// rtpEnd is one end of a call's RTP for the strict-RTP tests: a socket
// that books the audio it gets (the index each payload carries).
type rtpEnd struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []uint32
	done chan struct{}
}

func newRTPEnd(t *testing.T, ip string) *rtpEnd {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	e := &rtpEnd{conn: c, done: make(chan struct{})}
	t.Cleanup(func() { c.Close(); <-e.done })
	go func() {
		defer close(e.done)
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) != nil || len(p.Payload) < 4 {
				continue
			}
			e.mu.Lock()
			e.got = append(e.got, binary.BigEndian.Uint32(p.Payload))
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *rtpEnd) received() []uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]uint32(nil), e.got...)
}

// send sends PCMU packets first..last (each payload starts with its
// index) with ssrc, sequence numbers following the indexes.
func (e *rtpEnd) send(t *testing.T, to *net.UDPAddr, pt uint8, ssrc uint32, first, last uint32) {
	t.Helper()
	payload := make([]byte, 160)
	for i := first; i <= last; i++ {
		binary.BigEndian.PutUint32(payload, i)
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc, SequenceNumber: uint16(i), Timestamp: i * 160}, Payload: payload}
		b, _ := p.Marshal()
		if _, err := e.conn.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
}

var sdpAudio = regexp.MustCompile(`(?m)^c=IN IP4 (\S+)\r?$[\s\S]*^m=audio (\d+) `)

// TestSIPStrictRTP: a call to the echo number, then a stranger who found
// the server's RTP port sends RTP (a valid run of one SSRC, the call's
// payload type) and RTCP to it. The stranger must get nothing back and
// talk into nothing: the phone hears only itself, every packet after the
// attack included. Before strict RTP the stranger's first packet turned
// the call's audio to the stranger for the rest of the call (diago's
// RTPNATSymetric, "RTP Bleed"). Once with the phone at its SDP address,
// once behind a "NAT" (its SDP names a port nobody listens on): its
// source is learnt from its own packets.
func TestSIPStrictRTP(t *testing.T) {
	e := startEnv(t, nil)
	for _, nat := range []bool{false, true} {
		t.Run(fmt.Sprintf("nat=%v", nat), func(t *testing.T) {
			phone := newRTPEnd(t, "127.0.0.1")
			sdpPort := phone.conn.LocalAddr().(*net.UDPAddr).Port
			if nat {
				gone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				sdpPort = gone.LocalAddr().(*net.UDPAddr).Port
				gone.Close()
			}
			sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", sdpPort)
			p := newProbe(t, "127.0.0.1", e.bridge.Addr())
			a := p.send(sipReq{method: "INVITE", from: "phone", to: "15550000", sdp: sdp, keep: true})
			if a.code != 200 {
				t.Fatalf("INVITE to the echo number: %s", a.status)
			}
			defer p.bye()
			m := sdpAudio.FindStringSubmatch(a.body)
			if m == nil {
				t.Fatalf("no audio address in the answer:\n%s", a.body)
			}
			server, err := net.ResolveUDPAddr("udp", net.JoinHostPort(m[1], m[2]))
			if err != nil {
				t.Fatal(err)
			}
			dropped0 := e.bridge.Stats.RTPWrongSource.Load()
			phone.send(t, server, 0, 0x1111, 1, 10)
			testwait.For(t, 5*time.Second, "the phone's echo", func() bool { return len(phone.received()) >= 7 })

			stranger := newRTPEnd(t, "127.0.0.3")
			stranger.send(t, server, 0, 0x6666, 1000, 1009)
			rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0x66, 0x66, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			if _, err := stranger.conn.WriteToUDP(rtcp, server); err != nil {
				t.Fatal(err)
			}
			testwait.For(t, 5*time.Second, "the stranger's 11 packets dropped", func() bool {
				return e.bridge.Stats.RTPWrongSource.Load()-dropped0 >= 11
			})
			phone.send(t, server, 0, 0x1111, 11, 20)
			testwait.For(t, 5*time.Second, "the phone's echo after the attack", func() bool {
				got := phone.received()
				return len(got) > 0 && got[len(got)-1] == 20
			})
			for _, i := range phone.received() {
				if i >= 1000 {
					t.Errorf("the phone heard the stranger's packet %d", i)
				}
			}
			if got := phone.received(); len(got) < 17 {
				t.Errorf("the phone heard %d of its 20 packets back: %v", len(got), got)
			}
			if got := stranger.received(); len(got) != 0 {
				t.Errorf("the stranger got %d packets of the call: %v", len(got), got)
			}
		})
	}
}

// TestSIPUDPServingAtStart: once the bridge has started, sipgo serves its
// UDP listener (udpServing), so that a REGISTER or INVITE sent from it
// right away does not make sipgo bind the address a second time; an
// address nobody serves is not taken for it.
func TestSIPUDPServingAtStart(t *testing.T) {
	e := startEnv(t, nil)
	s := e.bridge.stack.(*diagoStack)
	if !udpServing(s.ua, s.addr, 0) {
		t.Errorf("the UDP listener %s is not in sipgo's pool after start", s.addr)
	}
	if udpServing(s.ua, "127.0.0.1:9", 5*time.Millisecond) {
		t.Error("an address nobody listens on is taken for served")
	}
}
