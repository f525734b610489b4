package app

import (
	"log/slog"
	"strings"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/apps/phone"
	"github.com/flashvox/flashvox/apps/siprtmp"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/throttle"
)

// appDeps are what the applications of apps: are built from.
type appDeps struct {
	calls *call.Service
	auth  *account.Auth
	confs *conference.Service
	guard *throttle.Throttle
	log   *slog.Logger // the call component's logger, for phone and sip
}

// newApps builds the session applications listed in apps: (config/apps.go)
// and their transcoding policies; names not listed do not exist. A live
// application that is open to anyone is logged once as a warning.
func newApps(cfg *config.Config, d appDeps, logger *slog.Logger) (map[string]session.App, map[string]session.TranscodePolicy) {
	apps := map[string]session.App{}
	transcode := map[string]session.TranscodePolicy{}
	for _, a := range cfg.Apps {
		transcode[a.Name] = session.TranscodePolicy(a.TranscodePolicy())
		switch a.Name {
		case config.AppPhone:
			apps[phone.Name] = &phone.App{Calls: d.calls, Auth: d.auth, Guard: d.guard, Conferences: d.confs, Logger: d.log}
			continue
		case config.AppSIP:
			apps[siprtmp.Name] = &siprtmp.App{Calls: d.calls, Auth: d.auth, Guard: d.guard, Logger: d.log}
			continue
		}
		pub, play := a.Policies()
		apps[a.Name] = &session.LiveApp{Publish: session.Policy(pub), Play: session.Policy(play), Keys: a.Keys,
			Tokens: d.auth, Guard: d.guard, PlayWait: a.PlayWait}
	}
	if open := cfg.OpenApps(); len(open) > 0 {
		_, _, exposed := cfg.Exposed()
		logger.Warn("applications open to anyone", "apps", strings.Join(open, "; "), "exposed", exposed)
	}
	return apps, transcode
}

// maxTranscoders maps rtmp.max_transcoders (0 = none) to
// session.Options.MaxTranscoders (<0 = none).
func maxTranscoders(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
