//go:build !cgo

package webrtc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	fvrtc "github.com/flashvox/flashvox/webrtc"
)

// TestNoOpusWithoutCgo: a build without libopus answers 503 and says why.
func TestNoOpusWithoutCgo(t *testing.T) {
	e := startEdge(t, nil, fvrtc.Options{})
	if e.srv.OpusErr() == nil {
		t.Fatal("OpusErr is nil without cgo")
	}
	res, body := post(t, e.url+"/live/a/whep", "application/sdp", "", []byte(testpeer.PionOffer(t)))
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "opus is not available") {
		t.Fatalf("%d %q, want 503 saying opus is not available", res.StatusCode, body)
	}
}
