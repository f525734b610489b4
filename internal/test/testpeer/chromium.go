package testpeer

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium starts Debian's chromium headless for chromedp, with the flags
// WebRTC on loopback needs (PEERS.md), plus extra flags (a fake microphone:
// "use-fake-device-for-media-stream", "use-file-for-fake-audio-capture").
// A missing browser fails the test with the install command; under -short
// the test is skipped. The browser ends with the test.
func Chromium(t testing.TB, extra map[string]any) context.Context {
	t.Helper()
	path := Require(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	for k, v := range extra {
		opts = append(opts, chromedp.Flag(k, v))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
