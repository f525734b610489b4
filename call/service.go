package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/events"
)

// Options configure a Service.
type Options struct {
	RingTimeout         time.Duration // unanswered calls end as no_answer (default 30s)
	EventsPerUser       int           // log capacity per user (default 1000)
	HTTPPresenceTimeout time.Duration // an idle HTTP device goes away after this (default 40s)
	// StreamPrefix is put before issued stream names to make hub keys
	// (default "phone/").
	StreamPrefix string
	// NoP2P lists users whose calls always relay through the server, even
	// between two RTMFP clients (a policy: recording, privacy of addresses).
	NoP2P []string
	// DisableP2P makes every call relay (the config's call.p2p: false).
	DisableP2P bool
	// Gateway carries calls whose other party is not a user (package
	// sipbridge); nil: only users can be called. It is fixed at
	// construction, so no call ever sees it change.
	Gateway Gateway
	Now     func() time.Time
	Logger  *slog.Logger
}

// Device kinds.
const (
	KindRTMP = "rtmp"
	KindHTTP = "http"
	// KindSIP is a SIP phone registered as the user (package sipbridge):
	// it rings for every call to the user and places calls as the user.
	KindSIP = "sip"
)

// Service holds users, their devices and logs, and the calls between them.
// All methods are safe for concurrent use.
type Service struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	users   map[string]*user
	calls   map[string]*Call
	streams map[string]*grant // issued stream name -> who may use it
	seq     uint64            // orders calls
	closed  bool
	stats   Stats
}

type user struct {
	name    string
	log     *events.Log
	devices map[string]*Device
	http    *Device // the user's HTTP device, if any
	calls   map[string]*Call
	status  string // last presence told to watchers
}

// Device is one connection of a user: an RTMP connection, or the user's
// HTTP client (all HTTP requests of a user are one device). A device that
// placed or answered a call carries its media: when it goes away, the call ends.
type Device struct {
	ID   string
	User string
	Kind string

	// HTTP devices: requests in flight and the expiry timer (guarded by Service.mu).
	inflight int
	expiry   *time.Timer
	gone     bool
	direct   bool // RTMFP: may carry media peer to peer (SetDirect)

	// Pushing transports (RTMP, RTMFP) report how far they have written
	// the user's events to the client (Delivered); Flush waits on it.
	pushes    atomic.Bool
	delivered atomic.Uint64
}

// Delivered records that a pushing transport has written its user's
// events before cursor to the client. Safe from any goroutine.
func (d *Device) Delivered(cursor uint64) {
	d.delivered.Store(cursor)
	d.pushes.Store(true)
}

// grant says who may publish and who may play one issued stream name.
type grant struct {
	call              *Call
	publisher, player string
}

// NewService makes a Service; names are the users known in advance (the
// config's users), so that presence lists them while offline.
func NewService(o Options, names ...string) *Service {
	if o.RingTimeout <= 0 {
		o.RingTimeout = 30 * time.Second
	}
	if o.EventsPerUser <= 0 {
		o.EventsPerUser = 1000
	}
	if o.HTTPPresenceTimeout <= 0 {
		o.HTTPPresenceTimeout = 40 * time.Second
	}
	if o.StreamPrefix == "" {
		o.StreamPrefix = "phone/"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: o, log: o.Logger, users: map[string]*user{}, calls: map[string]*Call{}, streams: map[string]*grant{}}
	for _, n := range names {
		s.userLocked(n)
	}
	return s
}

func (s *Service) userLocked(name string) *user {
	u := s.users[name]
	if u == nil {
		u = &user{name: name, log: events.NewLog(s.opts.EventsPerUser), devices: map[string]*Device{}, calls: map[string]*Call{}, status: Offline}
		s.users[name] = u
	}
	return u
}

// Log returns user's event log (creating the user's entry).
func (s *Service) Log(name string) *events.Log {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(name).log
}

// Attach registers a new device (an RTMP connection) of user. The user is
// online from now on until its last device is detached.
func (s *Service) Attach(name, kind string) *Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(name)
	d := &Device{ID: randomID(8), User: name, Kind: kind}
	u.devices[d.ID] = d
	s.log.Info("device attached", "user", name, "device", d.ID, "kind", kind)
	s.presenceLocked(u)
	return d
}

// Detach unregisters d; the calls it carries end (bye with reason gone,
// or cancelled/rejected while ringing).
func (s *Service) Detach(d *Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detachLocked(d)
}

func (s *Service) detachLocked(d *Device) {
	u := s.users[d.User]
	if u == nil || u.devices[d.ID] != d {
		return
	}
	delete(u.devices, d.ID)
	d.gone = true
	if d.expiry != nil {
		d.expiry.Stop()
	}
	if u.http == d {
		u.http = nil
	}
	s.log.Info("device detached", "user", d.User, "device", d.ID, "kind", d.Kind)
	for _, c := range sortedCalls(u.calls) {
		switch {
		case c.state == stateActive && (c.callerDevice == d.ID || c.calleeDevice == d.ID):
			s.endLocked(c, EvBye, ReasonGone, d.User)
		case c.state == stateRinging && c.From == d.User && c.callerDevice == d.ID:
			s.endLocked(c, EvCanceled, ReasonGone, d.User)
		case c.state == stateRinging && c.To == d.User && len(u.devices) == 0:
			s.endLocked(c, EvRejected, ReasonOffline, d.User)
		}
	}
	s.presenceLocked(u)
}

// HTTPBegin marks the start of an HTTP request of user and returns the
// user's HTTP device and a function to call when the request ends. The
// device lives while requests are in flight and for HTTPPresenceTimeout
// after the last one.
func (s *Service) HTTPBegin(name string) (*Device, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(name)
	d := u.http
	if d == nil {
		d = &Device{ID: randomID(8), User: name, Kind: KindHTTP}
		u.http = d
		u.devices[d.ID] = d
		s.log.Info("device attached", "user", name, "device", d.ID, "kind", KindHTTP)
		s.presenceLocked(u)
	}
	d.inflight++
	if d.expiry != nil {
		d.expiry.Stop()
	}
	var once sync.Once
	return d, func() { once.Do(func() { s.httpEnd(d) }) }
}

func (s *Service) httpEnd(d *Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.inflight--
	if d.gone || d.inflight > 0 {
		return
	}
	d.expiry = time.AfterFunc(s.opts.HTTPPresenceTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if d.inflight == 0 && !d.gone {
			s.detachLocked(d)
		}
	})
}

// Presence returns every known user's presence.
func (s *Service) Presence() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.users))
	for n, u := range s.users {
		out[n] = statusOf(u)
	}
	return out
}

func statusOf(u *user) string {
	switch {
	case len(u.devices) == 0:
		return Offline
	case len(u.calls) > 0:
		return Busy
	}
	return Online
}

// presenceLocked tells every other known user when u's presence changed.
func (s *Service) presenceLocked(u *user) {
	st := statusOf(u)
	if st == u.status {
		return
	}
	u.status = st
	now := s.opts.Now()
	for _, w := range s.users {
		if w != u {
			w.log.Append(now, Event{Type: EvPresence, User: u.name, Status: st})
		}
	}
}

// StreamKey returns the hub key for an issued stream name if user may
// publish it (publish) or play it (!publish) now, else ErrStreamDenied.
func (s *Service) StreamKey(name, stream string, publish bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.streams[stream]
	// Early media (a gateway's 183) may be played while the call rings.
	early := g != nil && g.call.state == stateRinging && g.call.early && !publish
	if g == nil || (g.call.state != stateActive && !early) {
		return "", ErrStreamDenied
	}
	if (publish && g.publisher != name) || (!publish && g.player != name) {
		return "", ErrStreamDenied
	}
	return s.opts.StreamPrefix + stream, nil
}

// Close ends every call (bye, reason "shutdown") and stops the timers.
func (s *Service) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range sortedCalls(s.calls) {
		s.endLocked(c, endEventFor(c), "shutdown", "")
	}
	for _, u := range s.users {
		for _, d := range u.devices {
			if d.expiry != nil {
				d.expiry.Stop()
			}
		}
	}
}

// Flush waits until every pushing device has delivered its user's events
// written so far (Close's shutdown events above all), or ctx ends: the
// server's shutdown calls it before closing the connections, so that the
// parties hear why their calls ended.
func (s *Service) Flush(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.undelivered() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("call: %d devices not told: %w", s.undelivered(), ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *Service) undelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, u := range s.users {
		head := u.log.Head()
		for _, d := range u.devices {
			if d.pushes.Load() && d.delivered.Load() < head {
				n++
			}
		}
	}
	return n
}

func endEventFor(c *Call) string {
	if c.state == stateActive {
		return EvBye
	}
	return EvCanceled
}

func sortedCalls(m map[string]*Call) []*Call {
	out := make([]*Call, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// randomID returns n random bytes in hex (crypto/rand: ids and stream
// names must not be guessable).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
