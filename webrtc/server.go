package webrtc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// Stats count sessions, refusals and the media the edge moves, for the
// metrics exporter.
type Stats struct {
	Opened  atomic.Uint64 // sessions answered
	Refused atomic.Uint64 // requests refused (access, bounds, bad offers)
	// Audio frames sent to WHEP players: passed through (the stream was
	// already in the player's codec: no decoding, only RTP packetising)
	// or transcoded by the hub's shared transcoder.
	PassedThrough atomic.Uint64
	Transcoded    atomic.Uint64
	// RFC 4733 digits received from WHIP publishers and sent to WHEP players.
	DTMFIn, DTMFOut atomic.Uint64
	// DTMFDropped counts digits refused by the per-session rate bound.
	DTMFDropped atomic.Uint64
	// The built-in STUN server: Binding requests answered, packets
	// ignored (not a Binding request), answers withheld by its rate bounds.
	STUNAnswered, STUNIgnored, STUNLimited atomic.Uint64
	// NoSrflx counts answers sent without any srflx candidate although
	// Options.STUNServers are set: no STUN server answered within
	// Options.STUNGatherTimeout.
	NoSrflx atomic.Uint64
	// PeerReports counts the report blocks WHEP players sent about the
	// audio they get (RTCP RR/SR), on both engines.
	PeerReports atomic.Uint64
}

// Server serves WHIP and WHEP on an HTTP mux. Its mutex guards the
// session registry; each session's goroutines own its media.
type Server struct {
	// Stats count sessions and refusals, for the metrics exporter.
	Stats   Stats
	o       Options
	se      webrtc.SettingEngine // shared by every session's API
	opusErr error                // non-nil in a build without libopus
	stun    *stunServer          // nil unless Options.STUNListen
	turn    *turnRelay           // nil unless Options.TURNListen
	links   []string             // the answers' Link headers (ICE servers)
	srflx   []webrtc.ICEServer   // Options.STUNServers, for every PeerConnection

	umux *udpMux // the shared ICE socket (Options.UDPMuxPort), or nil

	plane      *plane.Plane     // the lite engine's media plane, or nil
	planeCands []netip.AddrPort // its answers' host candidates

	mu       sync.Mutex
	sessions map[string]*peerSession // by id
	perIP    map[string]int
	closed   bool
}

// New makes a Server; it fails on bad options (an ICE address that is not
// an IP, a bad UDP port range).
func New(o Options) (*Server, error) {
	o.defaults()
	se, err := settings(&o)
	if err != nil {
		return nil, err
	}
	srflx, err := reflexiveServers(o.STUNServers)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, se: se, srflx: srflx, sessions: map[string]*peerSession{}, perIP: map[string]int{}}
	switch o.Engine {
	case EngineLite:
		if err := s.openPlane(); err != nil {
			return nil, err
		}
	case EnginePion:
	default:
		return nil, fmt.Errorf("webrtc: engine %q: want %q or %q", o.Engine, EnginePion, EngineLite)
	}
	if o.UDPMuxPort != 0 {
		if o.UDPPortMin != 0 || o.UDPPortMax != 0 {
			return nil, errors.New("webrtc: a UDP mux port and a UDP port range exclude each other")
		}
		if len(o.STUNServers) > 0 {
			// pion gathers server-reflexive candidates on sockets of its
			// own, beside the mux: the one-port promise would not hold.
			return nil, errors.New("webrtc: a UDP mux port and STUN servers (server-reflexive candidates) exclude each other")
		}
		if s.umux, err = openUDPMux(net.ParseIP(o.ICEAddress), o.UDPMuxPort); err != nil {
			return nil, err
		}
		s.umux.use(&s.se)
	}
	if err := s.startSTUN(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startTURN(); err != nil {
		s.Close()
		return nil, err
	}
	if e, err := opus.NewEncoder(48000, opus.EncoderOptions{}); err != nil {
		s.opusErr = fmt.Errorf("%w: %v", ErrOpusUnavailable, err)
	} else {
		_ = e.Close()
	}
	return s, nil
}

// Handler returns a handler that serves WHIP and WHEP, POST (and
// OPTIONS) /APP/NAME/whip and /APP/NAME/whep and DELETE on the session
// URLs they answer with, and passes every other request to next. It is a
// wrapper, not ServeMux patterns, because /{app}/{name}/whip conflicts
// with the mux's subtree patterns (the RTMPT tunnel's POST /open/).
func (s *Server) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, name, kind, id, ok := splitPath(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r.SetPathValue("app", app)
		r.SetPathValue("name", name)
		r.SetPathValue("id", id)
		switch {
		case id == "" && r.Method == http.MethodPost:
			s.post(w, r, kind == "whip")
		case id == "" && r.Method == http.MethodOptions:
			s.setLinks(w.Header(), s.optionsTURN(r, kind == "whip"))
			w.Header().Set("Allow", "OPTIONS, POST")
			w.Header().Set("Accept-Post", "application/sdp")
			w.WriteHeader(http.StatusNoContent)
		case id != "" && r.Method == http.MethodDelete:
			s.delete(w, r)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// splitPath matches /APP/NAME/KIND and /APP/NAME/KIND/ID, KIND whip or whep.
func splitPath(p string) (app, name, kind, id string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return "", "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] == "" || parts[1] == "" {
		return "", "", "", "", false
	}
	kind = parts[2]
	if kind != "whip" && kind != "whep" {
		return "", "", "", "", false
	}
	if len(parts) == 4 {
		if id = parts[3]; id == "" {
			return "", "", "", "", false
		}
	}
	return parts[0], parts[1], kind, id, true
}

// OpusErr is why this build cannot serve WHIP/WHEP (no libopus), nil if it can.
func (s *Server) OpusErr() error { return s.opusErr }

// Sessions is the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session; requests afterwards get 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*peerSession, 0, len(s.sessions))
	for _, p := range s.sessions {
		all = append(all, p)
	}
	stun, relay := s.stun, s.turn
	s.stun = nil
	s.mu.Unlock()
	for _, p := range all {
		p.close("server closed")
	}
	if stun != nil {
		stun.close()
	}
	if relay != nil {
		relay.close()
	}
	if s.umux != nil {
		s.umux.close() // after the sessions: their agents leave it first
	}
	if s.plane != nil {
		s.plane.Close()
	}
}

// Serve runs until ctx ends, then closes every session.
func (s *Server) Serve(ctx context.Context) error {
	<-ctx.Done()
	s.Close()
	return nil
}

// post answers a WHIP (publish) or WHEP (play) offer.
func (s *Server) post(w http.ResponseWriter, r *http.Request, publish bool) {
	if s.opusErr != nil {
		http.Error(w, s.opusErr.Error(), http.StatusServiceUnavailable)
		return
	}
	ip := clientIP(r)
	req := Request{App: r.PathValue("app"), Name: r.PathValue("name"), Publish: publish, Query: r.URL.RawQuery, Addr: ip, Context: r.Context()}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.Bearer = strings.TrimSpace(b)
	}
	key, err := s.o.Access.Authorize(req)
	if err != nil {
		s.refuse(w, req, err)
		return
	}
	var ends <-chan struct{} // asked at once: a right that ends meanwhile ends the session at its start
	if e, ok := s.o.Access.(Ender); ok {
		ends = e.Ends(req)
	}
	offer, offered, err := readOffer(r)
	if err != nil {
		s.refuse(w, req, err)
		return
	}
	id, ok := s.pick(key, publish, offered)
	if !ok {
		s.refuse(w, req, fmt.Errorf("%w: no codec in common (offered %v, this server speaks %v)", errBadOffer, offered.codecs, s.o.Codecs))
		return
	}
	c, _ := lookupRTPCodec(id)
	p, err := s.admit(ip, key, publish)
	if err != nil {
		s.refuse(w, req, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.ConnectTimeout)
	defer cancel()
	ans, err := p.start(ctx, offer, c, offered.hasEvents(int(c.cap.ClockRate)))
	if err != nil {
		p.close(err.Error())
		s.refuse(w, req, err)
		return
	}
	kind := "whep"
	if publish {
		kind = "whip"
	}
	if ends != nil {
		go p.endWith(ends)
	}
	s.Stats.Opened.Add(1)
	s.setLinks(w.Header(), p.id[:8])
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", fmt.Sprintf("/%s/%s/%s/%s", req.App, req.Name, kind, p.id))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(ans))
}

// pick chooses a session's one codec: for WHEP the stream's own codec
// when the offer has it and webrtc.codecs allows it, so the player gets
// the frames as they are (a SIP leg's G.711 or G.722 to a page: no
// transcoder); otherwise, and for WHIP, the first of webrtc.codecs the
// offer has.
func (s *Server) pick(key string, publish bool, o offered) (codec.ID, bool) {
	if !publish {
		if id := s.o.Hub.AudioCodec(key); id != 0 && slices.Contains(s.o.Codecs, id) && slices.Contains(o.codecs, id) {
			return id, true
		}
	}
	return o.choose(s.o.Codecs)
}

// delete ends a session (RFC 9725 §4.3). The id is unguessable, so it is
// the session's capability: whoever got the Location may end it.
func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.sessions[r.PathValue("id")]
	s.mu.Unlock()
	if p == nil || p.key != r.PathValue("app")+"/"+r.PathValue("name") {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	p.close("DELETE")
	w.WriteHeader(http.StatusOK)
}

var (
	errTooMany       = errors.New("too many WebRTC sessions")
	errTooManyFromIP = errors.New("too many WebRTC sessions from this address")
	errClosed        = errors.New("server closing")
	errInUse         = errors.New("stream already published")
)

// admit registers a new session within the bounds.
func (s *Server) admit(ip, key string, publish bool) (*peerSession, error) {
	var idb [16]byte
	_, _ = rand.Read(idb[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errClosed
	case len(s.sessions) >= s.o.MaxSessions:
		return nil, errTooMany
	case s.perIP[ip] >= s.o.MaxSessionsPerIP:
		return nil, errTooManyFromIP
	}
	p := &peerSession{s: s, id: hex.EncodeToString(idb[:]), ip: ip, key: key, publish: publish, done: make(chan struct{}), created: time.Now()}
	p.log = s.o.Logger.With("webrtc", p.id[:8], "stream", key, "whip", publish)
	s.sessions[p.id] = p
	s.perIP[ip]++
	return p, nil
}

// forget removes p from the registry (once, from p.close).
func (s *Server) forget(p *peerSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[p.id] == p {
		delete(s.sessions, p.id)
		if s.perIP[p.ip]--; s.perIP[p.ip] <= 0 {
			delete(s.perIP, p.ip)
		}
	}
}

// refuse answers a refused request with the status its error says.
func (s *Server) refuse(w http.ResponseWriter, req Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnauthorized):
		code = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="flashvox"`)
	case errors.Is(err, ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, errTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, errContentType):
		code = http.StatusUnsupportedMediaType
	case errors.Is(err, errBadOffer):
		code = http.StatusBadRequest
	case errors.Is(err, errTooManyFromIP):
		code = http.StatusTooManyRequests
	case errors.Is(err, errTooMany), errors.Is(err, errClosed), errors.Is(err, errNoTranscoder):
		code = http.StatusServiceUnavailable
	case errors.Is(err, errInUse):
		code = http.StatusConflict
	}
	s.Stats.Refused.Add(1)
	s.o.Logger.Info("webrtc refused", "app", req.App, "name", req.Name, "whip", req.Publish, "addr", req.Addr, "status", code, "why", err)
	http.Error(w, err.Error(), code)
}

// clientIP is the request's remote IP (proxies are not trusted: the
// per-address bound must not be spoofable by a header).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sessionLinger bounds how long a closing session waits for its goroutines.
const sessionLinger = 2 * time.Second
