package app

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/session"
)

// newApps builds exactly the listed applications, with their policies,
// and warns once about what is open to anyone.
func TestNewAppsFromConfig(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Apps = []config.App{
		{Name: "live", Publish: "key", Play: "open", Keys: map[string]string{"cam": "s3cret-key"}},
		{Name: "phone", Transcode: "off"},
	}
	var logs bytes.Buffer
	calls := call.NewService(call.Options{})
	defer calls.Close()
	apps, transcode := newApps(cfg, appDeps{calls: calls}, slog.New(slog.NewTextHandler(&logs, nil)))
	if len(apps) != 2 || apps["sip"] != nil || apps["phone"] == nil {
		t.Fatalf("apps %v: want live and phone only", apps)
	}
	live, ok := apps["live"].(*session.LiveApp)
	if !ok || live.Publish != session.PolicyKey || live.Play != session.PolicyOpen || live.Keys["cam"] != "s3cret-key" {
		t.Fatalf("live: %+v", apps["live"])
	}
	if transcode["live"] != session.TranscodeToken || transcode["phone"] != session.TranscodeOff {
		t.Fatalf("transcode policies %v", transcode)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"applications open to anyone\" apps=\"live (play)\"") {
		t.Fatalf("no warning about the open play:\n%s", logs.String())
	}
	if maxTranscoders(0) >= 0 || maxTranscoders(64) != 64 {
		t.Fatal("rtmp.max_transcoders 0 must mean none")
	}
}
