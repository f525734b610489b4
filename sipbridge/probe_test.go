package sipbridge

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probe is a bare SIP client over UDP for the hostile tests: it sends
// requests byte for byte as written (a captured header replayed
// unchanged) from a chosen address and reads the final answers.
type probe struct {
	t      *testing.T
	conn   *net.UDPConn
	server string
	cseq   int
	bye    func() // hangs up a call kept up (sipReq.keep)
}

// sipAnswer is a final response: the status and the headers.
type sipAnswer struct {
	code    int
	status  string              // the status line
	headers map[string][]string // lower-case names
	names   []string            // header names in order
	body    string
}

func (a *sipAnswer) header(name string) string {
	if v := a.headers[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// newProbe listens on ip:0 (127.0.0.2 is "elsewhere" on the loopback
// network) and talks to server.
func newProbe(t *testing.T, ip, server string) *probe {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &probe{t: t, conn: c, server: server}
}

func (p *probe) addr() string { return p.conn.LocalAddr().String() }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sipReq is one request to send.
type sipReq struct {
	method string
	ruri   string // default sip:TO@server
	from   string // user parts
	to     string
	auth   string // the Authorization / Proxy-Authorization value ("" none)
	extra  []string
	sdp    string // an INVITE's body (default: PCMU and PCMA at port 40000)
	keep   bool   // a 2xx INVITE answer is ACKed, not hung up: bye does
}

// send sends r and returns its final response (INVITE non-2xx answers are
// ACKed; a 2xx INVITE answer is ACKed and hung up with BYE).
func (p *probe) send(r sipReq) *sipAnswer {
	p.t.Helper()
	if r.ruri == "" {
		r.ruri = "sip:" + r.to + "@" + p.server
	}
	p.cseq++
	branch, tag, callID := "z9hG4bK"+randHex(8), randHex(4), randHex(8)+"@probe"
	var b strings.Builder
	head := func(s string, a ...any) { fmt.Fprintf(&b, s+"\r\n", a...) }
	head("%s %s SIP/2.0", r.method, r.ruri)
	head("Via: SIP/2.0/UDP %s;branch=%s;rport", p.addr(), branch)
	head("Max-Forwards: 70")
	head("From: <sip:%s@%s>;tag=%s", r.from, p.server, tag)
	head("To: <sip:%s@%s>", r.to, p.server)
	head("Call-ID: %s", callID)
	head("CSeq: %d %s", p.cseq, r.method)
	head("Contact: <sip:%s@%s>", r.from, p.addr())
	if r.auth != "" {
		name := "Proxy-Authorization"
		if r.method == "REGISTER" {
			name = "Authorization"
		}
		head("%s: %s", name, r.auth)
	}
	for _, h := range r.extra {
		head("%s", h)
	}
	body := ""
	if r.method == "INVITE" {
		host, _, _ := net.SplitHostPort(p.addr())
		body = "v=0\r\no=- 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
		if r.sdp != "" {
			body = r.sdp
		}
		head("Content-Type: application/sdp")
	}
	head("Content-Length: %d", len(body))
	b.WriteString("\r\n" + body)
	dst, err := net.ResolveUDPAddr("udp", p.server)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteTo([]byte(b.String()), dst); err != nil {
		p.t.Fatal(err)
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			p.t.Fatalf("%s %s: no final answer: %v", r.method, r.ruri, err)
		}
		a := parseAnswer(string(buf[:n]))
		if a == nil || a.header("Call-ID") != callID || a.code < 200 {
			continue // provisional, or a retransmission of an earlier answer
		}
		if r.method == "INVITE" {
			p.ack(r, a, branch, tag, callID, dst)
		}
		return a
	}
}

// ack ends an INVITE transaction: ACK (same branch for a non-2xx), and a
// BYE after a 2xx.
func (p *probe) ack(r sipReq, a *sipAnswer, branch, tag, callID string, dst *net.UDPAddr) {
	to := a.header("To")
	msg := func(method string, cseq int, br string) string {
		return fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
			method, r.ruri, p.addr(), br, r.from, p.server, tag, to, callID, cseq, method)
	}
	if a.code >= 300 {
		p.conn.WriteTo([]byte(msg("ACK", p.cseq, branch)), dst)
		return
	}
	p.conn.WriteTo([]byte(msg("ACK", p.cseq, "z9hG4bK"+randHex(8))), dst)
	p.bye = func() {
		p.cseq++
		p.conn.WriteTo([]byte(msg("BYE", p.cseq, "z9hG4bK"+randHex(8))), dst)
	}
	if !r.keep {
		p.bye()
	}
}

// parseAnswer reads a response's status line and headers (nil if msg is
// not a response).
func parseAnswer(msg string) *sipAnswer {
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "SIP/2.0 ") {
		return nil
	}
	code, err := strconv.Atoi(strings.Fields(lines[0])[1])
	if err != nil {
		return nil
	}
	a := &sipAnswer{code: code, status: lines[0], headers: map[string][]string{}, body: body}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		a.headers[k] = append(a.headers[k], strings.TrimSpace(v))
		a.names = append(a.names, k)
	}
	return a
}

// login answers a's MD5 challenge (the last one: MD5 is offered last or
// alone) for r as user with pass, nonce-count nc.
func login(t *testing.T, a *sipAnswer, r sipReq, user, pass string, nc int) string {
	t.Helper()
	name := "proxy-authenticate"
	if a.code == 401 {
		name = "www-authenticate"
	}
	chs := a.headers[name]
	if len(chs) == 0 {
		t.Fatalf("no challenge in %s", a.status)
	}
	return answer(t, chs[len(chs)-1], user, pass, r.method, r.ruri, nc)
}
