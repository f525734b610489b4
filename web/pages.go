package web

import (
	"cmp"
	"embed"
	"io/fs"
	"net/http"
	"os"
)

// swfMissing is the body of /flashvox.swf when the SWF was not built.
const swfMissing = "the Flash softphone is not built on this server; run make flash"

// static is the browser page served at /: plain HTML, CSS and JavaScript,
// no build step.
//
//go:embed static
var static embed.FS

// Pages serves the web phone page at / and the SWF softphone beside it.
type Pages struct {
	// SWF is the path of the built softphone (make flash writes
	// bin/flashvox.swf); it is read on each request so a rebuild shows at
	// once. A missing file answers 404 with swfMissing, and the page says
	// so instead of showing an empty Flash box.
	SWF string
	// RTMPPort is the port of rtmp.listen, where the page points the SWF
	// (rtmp://PAGE-HOST:PORT/phone); 0 means RTMP's default, 1935.
	RTMPPort int
	// ICEServers, when set, gives the stun: URLs the WebRTC edge
	// advertises (its built-in STUN server, webrtc.ice_servers), so that
	// the page's RTCPeerConnections gather server-reflexive candidates
	// behind NAT; nil: none (WebRTC off).
	ICEServers func() []string
	// Redirect, when set, may send a new load of the page (GET / or
	// /index.html) elsewhere: a non-empty URL answers 307 to it (a
	// cluster node above its load, docs/CLUSTER.md); assets and
	// /page.json are always served here.
	Redirect func(requestURI string) string
}

// redirect answers a load of the page with 307 when Redirect names
// another node.
func (p *Pages) redirect(w http.ResponseWriter, r *http.Request) bool {
	if p.Redirect == nil || (r.URL.Path != "/" && r.URL.Path != "/index.html") {
		return false
	}
	to := p.Redirect(r.URL.RequestURI())
	if to == "" {
		return false
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusTemporaryRedirect)
	return true
}

// pageConfig is GET /page.json: what the page needs to know of this
// server that its static files cannot say.
type pageConfig struct {
	RTMPPort int  `json:"rtmpPort"` // the SWF's RTMP port
	SWF      bool `json:"swf"`      // /flashvox.swf is built
	// ICEServers are the RTCPeerConnection's iceServers URLs (stun:).
	ICEServers []string `json:"iceServers,omitempty"`
}

// pageCSP allows the page's own scripts, styles and SWF only.
const pageCSP = "default-src 'self'; object-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// Register adds GET / (the page and its assets) and GET /flashvox.swf.
func (p *Pages) Register(mux *http.ServeMux) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if p.redirect(w, r) {
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /flashvox.swf", p.swf)
	mux.HandleFunc("GET /page.json", p.config)
}

func (p *Pages) config(w http.ResponseWriter, _ *http.Request) {
	st, err := os.Stat(p.SWF)
	c := pageConfig{RTMPPort: cmp.Or(p.RTMPPort, 1935), SWF: err == nil && !st.IsDir()}
	if p.ICEServers != nil {
		c.ICEServers = p.ICEServers()
	}
	writeJSON(w, http.StatusOK, c)
}

func (p *Pages) swf(w http.ResponseWriter, r *http.Request) {
	f, err := os.Open(p.SWF)
	if err != nil {
		http.Error(w, swfMissing, http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.Error(w, swfMissing, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-shockwave-flash")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "flashvox.swf", st.ModTime(), f)
}
