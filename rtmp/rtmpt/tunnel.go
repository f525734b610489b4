package rtmpt

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/throttle"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ContentType is the content type of every tunnel request and answer.
const ContentType = "application/x-fcs"

// Polling-interval byte: 1 while data flows; after more than growAfter
// empty answers in a row it grows as 2n+1 up to maxInterval (as Flash Media
// Server and Red5 do), so an idle Flash Player polls less often.
const (
	minInterval = 0x01
	maxInterval = 0x21
	growAfter   = 10
)

// ConnServer serves one tunnel session as a connection; *rtmp.Server is one.
type ConnServer interface {
	ServeConn(ctx context.Context, nc net.Conn) error
}

// ConnServerFunc adapts a function to ConnServer.
type ConnServerFunc func(ctx context.Context, nc net.Conn) error

// ServeConn calls f(ctx, nc).
func (f ConnServerFunc) ServeConn(ctx context.Context, nc net.Conn) error { return f(ctx, nc) }

// Options configures a Tunnel. Zero fields take the defaults of
// DefaultOptions, the one place they are written.
type Options struct {
	// MaxSessions bounds open sessions; an open beyond it gets 503.
	MaxSessions int
	// MaxSessionsPerIP bounds one address's share of them (IPv6: a /64),
	// so that a few addresses cannot fill MaxSessions for everyone.
	MaxSessionsPerIP int
	// MaxBody bounds one request body; more gets 413.
	MaxBody int64
	// MaxBuffered bounds the bytes waiting in each direction of a session.
	MaxBuffered int
	// IdleTimeout closes a session with no request for this long.
	IdleTimeout time.Duration
	// Hold is how long an idle poll waits for data before answering empty:
	// data that arrives meanwhile is answered at once, so latency stays near
	// RTMP's and clients that poll without pausing (rtmpdump) do not spin.
	Hold time.Duration
	// SendWait bounds how long a send waits for room in a full buffer.
	SendWait time.Duration
	Logger   *slog.Logger
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		MaxSessions:      1000,
		MaxSessionsPerIP: 32,
		MaxBody:          256 << 10,
		MaxBuffered:      1 << 20,
		IdleTimeout:      30 * time.Second,
		Hold:             100 * time.Millisecond,
		SendWait:         5 * time.Second,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxSessions <= 0 {
		o.MaxSessions = d.MaxSessions
	}
	if o.MaxSessionsPerIP <= 0 {
		o.MaxSessionsPerIP = d.MaxSessionsPerIP
	}
	if o.MaxBody <= 0 {
		o.MaxBody = d.MaxBody
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = d.MaxBuffered
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = d.IdleTimeout
	}
	if o.Hold < 0 {
		o.Hold = 0
	} else if o.Hold == 0 {
		o.Hold = d.Hold
	}
	if o.SendWait <= 0 {
		o.SendWait = d.SendWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Stats counts tunnel activity.
type Stats struct {
	Sessions          int64  // open now
	Opened            uint64 // sessions opened
	Refused           uint64 // opens refused by MaxSessions or MaxSessionsPerIP
	Requests          uint64 // requests answered with 200
	BadRequests       uint64 // requests answered with an error status
	BytesIn, BytesOut uint64 // body bytes, polling bytes excluded
}

// Tunnel is the RTMPT endpoint: an http.Handler for the tunnel paths that
// turns each session into a Conn served by a ConnServer. Its lifecycle is
// every long-lived component's: Serve(ctx) until ctx ends, or Close; both
// end every session and wait for their ServeConn calls.
type Tunnel struct {
	srv  ConnServer
	opts Options
	log  *slog.Logger

	// stop is cancelled by Close: the context of every session's
	// ServeConn. It is the tunnel's own because sessions open from HTTP
	// requests on servers the tunnel does not run (the web listener's
	// mux), possibly before Serve starts; Serve ties it to its ctx.
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards sessions, perIP and closed
	sessions map[string]*session
	perIP    map[string]int // open sessions by throttle.Key of the client address
	closed   bool

	opened, requests, badRequests, bytesIn, bytesOut, refused atomic.Uint64
	refusals                                                  *ratelog.Limiter // refused opens: one line per cause a minute
}

// session is one tunnel session's HTTP-side state.
type session struct {
	conn     *Conn
	ip       string     // the client's address as the per-IP limit counts it
	reqMu    sync.Mutex // one request at a time; guards the fields below
	seq      uint64     // last sequence number accepted
	started  bool       // seq is set
	lastSend time.Time  // last send request
	empty    int        // empty answers in a row
	ivl      byte       // polling interval of the last answer
	idle     *time.Timer
}

// New returns a Tunnel serving its sessions with srv.
func New(srv ConnServer, opts Options) *Tunnel {
	opts = opts.withDefaults()
	t := &Tunnel{srv: srv, opts: opts, log: opts.Logger, sessions: make(map[string]*session), perIP: make(map[string]int),
		refusals: ratelog.New(ratelog.Options{Logger: opts.Logger})}
	t.stop, t.cancel = context.WithCancel(context.Background())
	return t
}

// Register adds the tunnel's routes to mux (POST only).
func (t *Tunnel) Register(mux *http.ServeMux) {
	for _, p := range []string{"/fcs/ident2", "/open/", "/send/", "/idle/", "/close/"} {
		mux.Handle("POST "+p, t)
	}
}

// Stats returns the counters.
func (t *Tunnel) Stats() Stats {
	t.mu.Lock()
	n := len(t.sessions)
	t.mu.Unlock()
	return Stats{
		Sessions: int64(n), Opened: t.opened.Load(), Refused: t.refused.Load(), Requests: t.requests.Load(),
		BadRequests: t.badRequests.Load(), BytesIn: t.bytesIn.Load(), BytesOut: t.bytesOut.Load(),
	}
}

// Serve runs the tunnel until ctx ends, then ends every session and waits
// for the server to finish them, as Close does. HTTP requests reach the
// tunnel through Register or ServeListener.
func (t *Tunnel) Serve(ctx context.Context) error {
	<-ctx.Done()
	return t.Close()
}

// Close ends every session and waits for the server to finish them.
func (t *Tunnel) Close() error {
	t.mu.Lock()
	t.closed = true
	ss := make([]*session, 0, len(t.sessions))
	for _, s := range t.sessions {
		ss = append(ss, s)
		t.removeLocked(s)
	}
	t.mu.Unlock()
	t.cancel()
	for _, s := range ss {
		s.idle.Stop()
		s.conn.end()
	}
	t.wg.Wait()
	return nil
}

// ServeHTTP answers one tunnel request. Errors touch only the request's own
// session, and only by refusing the request.
func (t *Tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		t.fail(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	req, err := ParsePath(r.URL.Path)
	if err != nil {
		t.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	body, err := readBody(w, r, t.opts.MaxBody)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrBodyTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		t.fail(w, r, code, err.Error())
		return
	}
	switch req.Cmd {
	case CmdIdent:
		// Flash Media Server answers 404 unless it is an edge; Flash Player
		// then opens on the same host.
		t.fail(w, r, http.StatusNotFound, "no ident")
	case CmdOpen:
		t.open(w, r)
	default:
		t.serveSession(w, r, req, body)
	}
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, max %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: max %d", ErrBodyTooLarge, limit)
		}
		return nil, err
	}
	return b, nil
}

func (t *Tunnel) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	t.badRequests.Add(1)
	t.log.Debug("tunnel request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "status", code, "err", msg)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// idEncoding spells session ids in 26 lowercase letters and digits.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns 128 random bits: ids are unguessable, so knowing one is
// the session's only credential.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

func (t *Tunnel) open(w http.ResponseWriter, r *http.Request) {
	transport := "rtmpt"
	if r.TLS != nil {
		transport = "rtmpts"
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	conn := newConn(newID(), transport, local, remoteAddr(r.RemoteAddr), t.opts.MaxBuffered)
	s := &session{conn: conn, ivl: minInterval, ip: throttle.Key(r.RemoteAddr)}

	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		t.fail(w, r, http.StatusServiceUnavailable, "shutting down")
		return
	case len(t.sessions) >= t.opts.MaxSessions:
		t.mu.Unlock()
		t.refused.Add(1)
		t.refusals.Log(slog.LevelWarn, "rtmpt_max_sessions", "tunnel session refused", "err", ErrTooManySessions, "max_sessions", t.opts.MaxSessions, "addr", s.ip)
		t.fail(w, r, http.StatusServiceUnavailable, ErrTooManySessions.Error())
		return
	case t.perIP[s.ip] >= t.opts.MaxSessionsPerIP:
		t.mu.Unlock()
		t.refused.Add(1)
		t.refusals.Log(slog.LevelWarn, "rtmpt_max_sessions_per_ip", "tunnel session refused", "err", ErrTooManySessions, "max_sessions_per_ip", t.opts.MaxSessionsPerIP, "addr", s.ip)
		t.fail(w, r, http.StatusServiceUnavailable, ErrTooManySessions.Error())
		return
	}
	t.sessions[conn.id] = s
	t.perIP[s.ip]++
	s.idle = time.AfterFunc(t.opts.IdleTimeout, func() { t.expire(s) })
	t.wg.Add(1)
	t.mu.Unlock()
	t.opened.Add(1)

	go func() {
		defer t.wg.Done()
		t.srv.ServeConn(t.stop, conn)
		conn.Close()
		t.mu.Lock()
		if conn.pending() == 0 && t.sessions[conn.id] == s {
			// Nothing left for the client: forget the session now rather
			// than at its idle timeout.
			t.removeLocked(s)
			s.idle.Stop()
		}
		t.mu.Unlock()
	}()
	t.answer(w, []byte(conn.id+"\n"), nil)
}

func (t *Tunnel) expire(s *session) {
	t.mu.Lock()
	if t.sessions[s.conn.id] == s {
		t.removeLocked(s)
	}
	t.mu.Unlock()
	t.log.Debug("tunnel session expired", "session", s.conn.id, "idle_timeout", t.opts.IdleTimeout)
	s.conn.end()
}

func (t *Tunnel) lookup(id string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sessions[id]
}

// removeLocked forgets s; t.mu is held.
func (t *Tunnel) removeLocked(s *session) {
	delete(t.sessions, s.conn.id)
	if t.perIP[s.ip]--; t.perIP[s.ip] <= 0 {
		delete(t.perIP, s.ip)
	}
}

func (t *Tunnel) forget(s *session) {
	t.mu.Lock()
	if t.sessions[s.conn.id] == s {
		t.removeLocked(s)
	}
	t.mu.Unlock()
	s.idle.Stop()
}

func (t *Tunnel) serveSession(w http.ResponseWriter, r *http.Request, req Request, body []byte) {
	s := t.lookup(req.Session)
	if s == nil {
		t.fail(w, r, http.StatusNotFound, ErrUnknownSession.Error())
		return
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	// A client's numbers grow by one per request from where it starts
	// (ffmpeg 0, rtmpdump 2, after /open/1); a gap is tolerated (a request
	// lost on the way), a repeat or a step back is not.
	if !s.seqOK(req.Seq) {
		t.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%v: got %d after %d", ErrSequence, req.Seq, s.seq))
		return
	}
	s.seq, s.started = req.Seq, true
	s.idle.Reset(t.opts.IdleTimeout)

	switch req.Cmd {
	case CmdClose:
		t.forget(s)
		s.conn.end()
		t.answer(w, nil, []byte{0})
		return
	case CmdSend:
		if len(body) > 0 {
			if err := s.conn.deliver(body, t.opts.SendWait); err != nil {
				if errors.Is(err, ErrClosed) {
					t.forget(s)
					t.fail(w, r, http.StatusNotFound, err.Error())
					return
				}
				t.fail(w, r, http.StatusServiceUnavailable, err.Error())
				return
			}
			t.bytesIn.Add(uint64(len(body)))
		}
	}
	// A send answers at once with whatever is waiting (the client has more
	// to send). An idle poll waits up to Hold for something to answer, but
	// only from a client that has sent nothing for holdQuiet: a publisher
	// (ffmpeg) polls between its sends and must not be slowed down.
	hold := t.opts.Hold
	now := time.Now()
	if req.Cmd == CmdSend {
		hold = 0
		s.lastSend = now
	} else if now.Sub(s.lastSend) < holdQuiet {
		hold = 0
	}
	data, done := s.conn.take(t.opts.MaxBuffered, hold)
	if data == nil && done {
		t.forget(s)
		t.fail(w, r, http.StatusNotFound, ErrClosed.Error())
		return
	}
	if done {
		t.forget(s)
	}
	s.idle.Reset(t.opts.IdleTimeout)
	t.bytesOut.Add(uint64(len(data)))
	t.answer(w, data, []byte{s.interval(len(data) > 0)})
}

// holdQuiet is how long a client must have sent nothing before its idle
// polls are held.
const holdQuiet = 500 * time.Millisecond

// maxSeqGap bounds how far a sequence number may jump ahead.
const maxSeqGap = 1 << 16

func (s *session) seqOK(seq uint64) bool {
	if !s.started {
		return seq <= maxSeqGap
	}
	return seq > s.seq && seq-s.seq <= maxSeqGap
}

// interval returns the polling byte for an answer with or without data.
func (s *session) interval(data bool) byte {
	if data {
		s.empty, s.ivl = 0, minInterval
		return s.ivl
	}
	if s.empty++; s.empty > growAfter {
		s.empty = 0
		s.ivl = min(2*s.ivl+1, maxInterval)
	}
	return s.ivl
}

// answer writes a 200 with an explicit Content-Length: rtmpdump reads
// bodies by Content-Length and knows no chunked encoding.
func (t *Tunnel) answer(w http.ResponseWriter, data, prefix []byte) {
	t.requests.Add(1)
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(prefix)+len(data)))
	w.WriteHeader(http.StatusOK)
	if len(prefix) > 0 {
		w.Write(prefix)
	}
	w.Write(data)
}

func remoteAddr(s string) net.Addr {
	if ap, err := net.ResolveTCPAddr("tcp", s); err == nil {
		return ap
	}
	return &net.TCPAddr{}
}
