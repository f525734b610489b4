package sipbridge

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// inviteWithSDP is an INVITE from the trunk's address (127.0.0.1) to the
// echo number, which is answered without a login, carrying body.
func inviteWithSDP(transport, local, body string) string {
	return "INVITE sip:15550000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/" + transport + " " + local + ";branch=z9hG4bK-sdp" + transport + "\r\n" +
		"From: <sip:trunk@127.0.0.1>;tag=9\r\nTo: <sip:15550000@127.0.0.1>\r\nCall-ID: sdp-guard-" + transport + "\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:trunk@" + local + ">\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// TestSIPUnsafeSDP: offers that panic diago v0.31.0's SDP reading (a
// bare-LF line, an rtpmap twice; sdpguard.go) no longer end the process:
// over UDP the datagram is dropped and counted, over TCP the offer gets
// 488; the bridge then still answers.
func TestSIPUnsafeSDP(t *testing.T) {
	e := startEnv(t, nil)
	u, err := net.Dial("udp", e.bridge.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	bareLF := "v=0\no=- 1 1 IN IP4 127.0.0.1\n\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n"
	if _, err := u.Write([]byte(inviteWithSDP("UDP", u.LocalAddr().String(), bareLF))); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the datagram counted as malformed", func() bool { return e.bridge.Stats.SIPMalformed.Load() >= 1 })

	c, err := net.Dial("tcp", e.bridge.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	twice := sdpHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000\r\na=rtpmap:97 speex/16000\r\n"
	if _, err := c.Write([]byte(inviteWithSDP("TCP", c.LocalAddr().String(), twice))); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no final answer to the offer with rtpmap twice: %v", err)
		}
		if strings.HasPrefix(line, "SIP/2.0 1") || !strings.HasPrefix(line, "SIP/2.0 ") {
			continue
		}
		if !strings.HasPrefix(line, "SIP/2.0 488") {
			t.Fatalf("offer with rtpmap twice: %q, want 488", line)
		}
		break
	}
	if n := e.bridge.Stats.Active.Load(); n != 0 {
		t.Errorf("%d calls active", n)
	}
}
