package session

import (
	"testing"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

// TestConnectRedirect: Options.Redirect sends a connect elsewhere the way
// FMS does (ex.code 302, ex.redirect), and lets it in when it says "".
func TestConnectRedirect(t *testing.T) {
	for _, c := range []struct {
		name, to string
	}{{"redirected", "rtmp://127.0.0.2:1935/live"}, {"admitted", ""}} {
		t.Run(c.name, func(t *testing.T) {
			var asked string
			h := startSessionWith(t, Options{Hub: media.NewHub(64, nil), Apps: map[string]App{"live": Open()},
				Redirect: func(app string, _ Transport) string { asked = app; return c.to }})
			h.send(cmd(t, 0, "connect", 1, amf.NewObject("app", "live", "tcUrl", "rtmp://127.0.0.1/live")))
			if c.to == "" {
				h.expect("connect _result", isCommand("_result"))
				return
			}
			m := h.expect("connect _error", isCommand("_error"))
			cm, _ := message.ParseCommand(m)
			inf, _ := cm.Args[0].(*amf.Object)
			if inf == nil || inf.GetString("code") != codeConnectRejected || inf.GetString("description") != "redirected to "+c.to {
				t.Fatalf("redirect: %+v", cm.Args)
			}
			ex, _ := inf.Get("ex")
			exo, _ := ex.(*amf.Object)
			if n, _ := exo.GetNumber("code"); exo == nil || n != 302 || exo.GetString("redirect") != c.to {
				t.Fatalf("ex: %+v", ex)
			}
			if asked != "live" {
				t.Fatalf("Redirect asked about %q", asked)
			}
		})
	}
}
