//go:build cgo

package app

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// stunStub is a UDP STUN server on 127.0.0.1 that answers every Binding
// request with mapped (or, nil, never answers); closed when the test ends.
func stunStub(t *testing.T, mapped *stun.XORMappedAddress) string {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if mapped == nil || req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			resp := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess, mapped, stun.Fingerprint)
			_, _ = c.WriteToUDP(resp.Raw, from)
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return "stun:" + c.LocalAddr().String()
}

// TestWebRTCSrflxWired: webrtc.stun_servers and stun_gather_timeout from
// the YAML reach the sessions: the answer has the srflx candidate the
// answering server named (a silent second server delays it no more than
// the bound), and with only a silent server the answer comes with its
// host candidate and counts in
// flashvox_webrtc_answers_without_srflx_total.
func TestWebRTCSrflxWired(t *testing.T) {
	answering := stunStub(t, &stun.XORMappedAddress{IP: net.IPv4(192, 0, 2, 10), Port: 40000})
	silent := stunStub(t, nil)
	for _, c := range []struct {
		servers    string
		srflx      bool
		noSrflxCnt float64
	}{
		{`["` + answering + `", "` + silent + `"]`, true, 0},
		{`["` + silent + `"]`, false, 1},
	} {
		a := startP2PApp(t, "webrtc:\n  stun_servers: "+c.servers+"\n  stun_gather_timeout: 300ms\n")
		start := time.Now()
		res, err := http.Post(a.http+"/live/x/whep", "application/sdp", strings.NewReader(testpeer.PionOffer(t)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("%s: WHEP %d %s", c.servers, res.StatusCode, b)
		}
		ans := string(b)
		if took > time.Second || !strings.Contains(ans, " typ host") ||
			strings.Contains(ans, "192.0.2.10 40000 typ srflx raddr 127.0.0.1") != c.srflx {
			t.Errorf("%s: answered in %v, want ≤ 1 s with the host candidate and srflx %v:\n%s", c.servers, took, c.srflx, ans)
		}
		if n := a.metrics(t)["flashvox_webrtc_answers_without_srflx_total"]; n != c.noSrflxCnt {
			t.Errorf("%s: answers_without_srflx_total %v, want %v", c.servers, n, c.noSrflxCnt)
		}
	}
}
