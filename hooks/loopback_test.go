package hooks_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/rtmp"
)

// TestConnectRejectedCarriesReason: a Go client refused by on_connect reads
// NetConnection.Connect.Rejected with the hook's reason, and the site saw
// the client's pageUrl and swfUrl.
func TestConnectRejectedCarriesReason(t *testing.T) {
	st, s := startStack(t, 2*time.Second, func(w http.ResponseWriter, f url.Values) {
		if f.Get("pageurl") != "http://site.example/ok" {
			w.WriteHeader(http.StatusForbidden)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := rtmp.Dial(ctx, st.URL("live"), rtmp.ClientOptions{PageURL: "http://evil.example/", SwfURL: "http://evil.example/a.swf"})
	if err == nil || !strings.Contains(err.Error(), "NetConnection.Connect.Rejected") || !strings.Contains(err.Error(), "denied by the on_connect hook (HTTP 403)") {
		t.Fatalf("dial: %v, want Connect.Rejected with the hook's reason", err)
	}
	if f := s.calls("connect")[0]; f.Get("swfurl") != "http://evil.example/a.swf" || f.Get("app") != "live" {
		t.Errorf("connect form %v", f)
	}
	c, err := rtmp.Dial(ctx, st.URL("live"), rtmp.ClientOptions{PageURL: "http://site.example/ok"})
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()
}
