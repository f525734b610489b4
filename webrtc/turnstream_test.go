//go:build cgo

package webrtc_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/internal/tlscert"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// turnSecret signs the credentials of the TURN/TCP and TURN/TLS tests,
// so that they can make an expired pair the server would otherwise accept.
const turnSecret = "0123456789abcdef-test"

// streamEdge is an edge with TURN over UDP, TCP and TLS (a self-signed
// certificate for 127.0.0.1); roots trusts it.
func streamEdge(t *testing.T, o fvrtc.Options) (*edge, *x509.CertPool) {
	t.Helper()
	certPEM, keyPEM, err := tlscert.SelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	o.TURNListen, o.TURNTCPListen, o.TURNTLSListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.TURNTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	o.TURNSecret = turnSecret
	return startEdge(t, nil, o), roots
}

// turnLinks are the TURN Link headers of an OPTIONS at url by URL scheme
// and transport ("turn tcp", "turns tcp", …): URL, username, credential.
func turnLinks(t *testing.T, url string) map[string][3]string {
	t.Helper()
	req, _ := http.NewRequest("OPTIONS", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	out := map[string][3]string{}
	for _, l := range res.Header.Values("Link") {
		m := turnLink.FindStringSubmatch(strings.Replace(l, "<turns:", "<turn:", 1))
		if m == nil {
			continue
		}
		uri := strings.Replace(m[1], "turn:", "turns:", strings.Count(l, "<turns:"))
		scheme, rest, _ := strings.Cut(uri, ":")
		_, transport, _ := strings.Cut(rest, "?transport=")
		out[scheme+" "+transport] = [3]string{uri, m[2], m[3]}
	}
	return out
}

// dialTURN connects to the TURN/TCP listener at addr, or the TURN/TLS one
// when roots is set.
func dialTURN(t *testing.T, addr string, roots *x509.CertPool) net.Conn {
	t.Helper()
	var (
		c   net.Conn
		err error
	)
	if roots != nil {
		c, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// allocateOver allocates a relay over conn (TURN/TCP or TURN/TLS).
func allocateOver(t *testing.T, conn net.Conn, user, pass string) (net.PacketConn, error) {
	t.Helper()
	addr := conn.RemoteAddr().String()
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Conn: turn.NewSTUNConn(conn),
		Username: user, Password: pass, Realm: "flashvox", RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c.Allocate()
}

// TestTURNOverTCPAndTLS: the answers advertise TURN over UDP, TCP and TLS
// with one credential; over TCP and over TLS the issued credential gets a
// relayed address (UDP, on the ICE address) that reaches the server's own
// address and no other; a wrong password, an expired credential of the
// right secret, and a guessed secret's get nothing. A client that leaves
// takes its relay with it.
func TestTURNOverTCPAndTLS(t *testing.T) {
	e, roots := streamEdge(t, fvrtc.Options{})
	links := turnLinks(t, e.url+"/live/s/whep")
	for _, k := range []string{"turn udp", "turn tcp", "turns tcp"} {
		if _, ok := links[k]; !ok {
			t.Fatalf("no %s Link header in %v", k, links)
		}
		if links[k][1] != links["turn udp"][1] || links[k][2] != links["turn udp"][2] {
			t.Fatalf("%s has other credentials than UDP: %v", k, links)
		}
	}
	if want := "turn:" + e.srv.TURNTCPAddr().String() + "?transport=tcp"; links["turn tcp"][0] != want {
		t.Fatalf("TCP URL %q, want %q", links["turn tcp"][0], want)
	}
	if want := "turns:" + e.srv.TURNTLSAddr().String() + "?transport=tcp"; links["turns tcp"][0] != want {
		t.Fatalf("TLS URL %q, want %q", links["turns tcp"][0], want)
	}
	user, pass := links["turn tcp"][1], links["turn tcp"][2]
	expired, epass, err := turn.GenerateLongTermTURNRESTCredentials(turnSecret, "x", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	guessed, gpass, err := turn.GenerateLongTermTURNRESTCredentials("guessed-secret-0123", "x", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		addr  string
		roots *x509.CertPool
	}{
		{"tcp", e.srv.TURNTCPAddr().String(), nil},
		{"tls", e.srv.TURNTLSAddr().String(), roots},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bad := range [][2]string{{user, pass + "x"}, {expired, epass}, {guessed, gpass}} {
				if _, err := allocateOver(t, dialTURN(t, tc.addr, tc.roots), bad[0], bad[1]); err == nil {
					t.Fatalf("credential %s got a relay", bad[0])
				}
			}
			conn := dialTURN(t, tc.addr, tc.roots)
			relay, err := allocateOver(t, conn, user, pass)
			if err != nil {
				t.Fatalf("the issued credential: %v", err)
			}
			if ra := relay.LocalAddr().(*net.UDPAddr); !ra.IP.Equal(net.IPv4(127, 0, 0, 1)) {
				t.Fatalf("relayed address %v, want the ICE address", ra)
			}
			if _, err := relay.WriteTo([]byte("hi"), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9}); err == nil {
				t.Fatal("the relay sent to a foreign peer")
			}
			if _, err := relay.WriteTo([]byte("hi"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != nil {
				t.Fatalf("the relay refused the server's own address: %v", err)
			}
			if n := e.srv.TURNAllocations(); n != 1 {
				t.Fatalf("%d allocations, want 1", n)
			}
			_ = conn.Close()
			testwait.For(t, 5*time.Second, "the relay gone with its connection", func() bool { return e.srv.TURNAllocations() == 0 })
		})
	}
}

// TestTURNTCPRelay: a pion player allowed only relay candidates, given
// only the turn:…?transport=tcp server, plays a stream through it.
func TestTURNTCPRelay(t *testing.T) {
	e, _ := streamEdge(t, fvrtc.Options{})
	l := turnLinks(t, e.url+"/live/tcp/whep")["turn tcp"]
	playRelayed(t, e, "live/tcp", pionwebrtc.ICEServer{URLs: []string{l[0]}, Username: l[1], Credential: l[2]})
	if n := e.srv.TURNConnStats(false).Open.Load(); n != 1 {
		t.Fatalf("%d TURN/TCP connections open, want the player's 1", n)
	}
}

// TestTURNStreamBounds: one address holds at most max_sessions_per_ip
// TURN/TCP connections (the next is closed at accept); a connection that
// sends nothing, or never finishes its TLS handshake, is closed after the
// idle timeout; closing the server closes the connections still open.
func TestTURNStreamBounds(t *testing.T) {
	e, _ := streamEdge(t, fvrtc.Options{MaxSessionsPerIP: 2, TURNIdleTimeout: 300 * time.Millisecond})
	tcp, tlsAddr := e.srv.TURNTCPAddr().String(), e.srv.TURNTLSAddr().String()
	st := e.srv.TURNConnStats(false)
	held := []net.Conn{dialTURN(t, tcp, nil), dialTURN(t, tcp, nil)}
	testwait.For(t, 5*time.Second, "two connections accepted", func() bool { return st.Open.Load() == 2 })
	extra := dialTURN(t, tcp, nil)
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a third connection from one address: %v, want it closed", err)
	}
	if st.Refused.Load() != 1 {
		t.Fatalf("refused %d, want 1", st.Refused.Load())
	}
	for _, c := range held { // silent: closed by the idle deadline
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("an idle connection: %v, want it closed", err)
		}
	}
	testwait.For(t, 5*time.Second, "the idle connections counted", func() bool { return st.Idle.Load() == 2 && st.Open.Load() == 0 })
	raw := dialTURN(t, tlsAddr, nil) // TCP only: no ClientHello ever
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a connection that never starts TLS: %v, want it closed", err)
	}

	e2, _ := streamEdge(t, fvrtc.Options{})
	open := dialTURN(t, e2.srv.TURNTCPAddr().String(), nil)
	testwait.For(t, 5*time.Second, "the connection accepted", func() bool { return e2.srv.TURNConnStats(false).Open.Load() == 1 })
	e2.srv.Close()
	_ = open.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := open.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("after Close: %v, want the connection closed", err)
	}
}

// isReset: a connection closed with data unread may arrive as a reset.
func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}
