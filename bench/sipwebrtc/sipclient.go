package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The SIP side of each call: a lean phone. sipgo does the signalling
// (INVITE, ACK, BYE; one user agent for every call), and each call has a
// plain UDP socket for its RTP: no codec, no jitter buffer, so the
// phone's own cost stays small beside the server's.

// sipPhones places calls from one user agent.
type sipPhones struct {
	ua      *sipgo.UserAgent
	dialogs *sipgo.DialogClientCache
	srv     *sipgo.Server
	server  string // the flashvox SIP address
}

func newSIPPhones(ctx context.Context, server string) (*sipPhones, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("flashvox-bench"))
	if err != nil {
		return nil, err
	}
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port),
		sipgo.WithClientLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	p := &sipPhones{ua: ua, srv: srv, server: server}
	p.dialogs = sipgo.NewDialogClientCache(cl, sip.ContactHeader{Address: sip.Uri{User: "bench", Host: "127.0.0.1", Port: port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) { _ = p.dialogs.ReadBye(req, tx) })
	ready := make(chan struct{})
	go func() {
		_ = srv.ListenAndServe(context.WithValue(ctx, sipgo.ListenReadyCtxKey, sipgo.ListenReadyCtxValue(ready)), "udp", "127.0.0.1:"+strconv.Itoa(port))
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		return nil, fmt.Errorf("sip phones: no listener on port %d", port)
	}
	return p, nil
}

func (p *sipPhones) Close() { _ = p.ua.Close() }

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// sipCall is one established call: its dialog and RTP socket.
type sipCall struct {
	d    *sipgo.DialogClientSession
	conn *net.UDPConn
	to   *net.UDPAddr // the server's RTP address from its answer
}

// sdpCodec is the phone's one codec: its m= format and rtpmap.
type sdpCodec struct {
	pt     uint8
	rtpmap string
	clock  int
}

var sdpCodecs = map[string]sdpCodec{
	"pcmu": {0, "PCMU/8000", 8000},
	"opus": {96, "opus/48000/2", 48000},
}

// call dials number offering c only and waits for the answer.
func (p *sipPhones) call(ctx context.Context, number string, c sdpCodec) (*sipCall, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(1 << 20)
	port := conn.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s\r\na=ptime:20\r\na=sendrecv\r\n", port, port, c.pt, c.pt, c.rtpmap)
	host, sport, _ := net.SplitHostPort(p.server)
	n, _ := strconv.Atoi(sport)
	d, err := p.dialogs.Invite(ctx, sip.Uri{User: number, Host: host, Port: n}, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("invite %s: %w", number, err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("invite %s: %w", number, err)
	}
	if err := d.Ack(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ack %s: %w", number, err)
	}
	to, err := answerAddr(d.InviteResponse.Body())
	if err != nil {
		conn.Close()
		_ = d.Bye(ctx)
		return nil, fmt.Errorf("answer of %s: %w", number, err)
	}
	return &sipCall{d: d, conn: conn, to: to}, nil
}

// hangup sends BYE and closes the RTP socket.
func (c *sipCall) hangup(ctx context.Context) {
	_ = c.d.Bye(ctx)
	_ = c.d.Close()
	_ = c.conn.Close()
}

// answerAddr reads the c= address and the audio m= port of an SDP body.
func answerAddr(body []byte) (*net.UDPAddr, error) {
	var ip net.IP
	port := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "c=IN IP4 "); ok && ip == nil {
			ip = net.ParseIP(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "m=audio "); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				port, _ = strconv.Atoi(f[0])
			}
		}
	}
	if ip == nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("no audio address in %q", body)
	}
	return &net.UDPAddr{IP: ip, Port: port}, nil
}
