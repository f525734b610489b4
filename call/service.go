package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/presence"
)

// Options configure a Service.
type Options struct {
	RingTimeout         time.Duration // unanswered calls end as no_answer (default 30s)
	EventsPerUser       int           // log capacity per user (default 1000)
	HTTPPresenceTimeout time.Duration // an idle HTTP device goes away after this (default 40s)
	// StreamPrefix is put before issued stream names to make hub keys
	// (default DefaultStreamPrefix).
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

	// Records receives a record of every call that ends (cdr.go); nil:
	// none. CDR
	Records Recorder
}

// DefaultStreamPrefix is Options.StreamPrefix's default.
const DefaultStreamPrefix = "phone/"

// Device kinds (package presence's).
const (
	KindRTMP  = presence.KindRTMP
	KindRTMPT = presence.KindRTMPT
	KindRTMFP = presence.KindRTMFP
	KindHTTP  = presence.KindHTTP
	KindSIP   = presence.KindSIP
)

// Device is one connection of a user (package presence). A device that
// placed or answered a call carries its media: when it goes away, the call
// ends.
type Device = presence.Device

// Service holds the calls between users; who is online on which device is
// its presence.Registry's, guarded by the same lock. All methods are safe
// for concurrent use.
type Service struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	pres    *presence.Registry
	users   map[string]*user
	calls   map[string]*Call
	streams map[string]*grant // issued stream name -> who may use it
	// contacts are the users' watch lists (contacts.go); a user without an
	// entry has no list.
	contacts map[string]map[string]bool
	seq      uint64            // orders calls
	remote   map[string]string // users connected to other nodes: status (remote.go)
	// watchLocal is told each change of a user's presence here (remote.go).
	watchLocal func(user, status string)
	closed     bool
	stats      Stats
}

// user is a user's presence entry (its log, its devices) and its calls.
type user struct {
	*presence.User
	calls map[string]*Call
	local string // its presence here as last told to watchLocal ("" = offline)
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
	if o.StreamPrefix == "" {
		o.StreamPrefix = DefaultStreamPrefix
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: o, log: o.Logger, users: map[string]*user{}, calls: map[string]*Call{}, streams: map[string]*grant{}}
	// The registry shares s.mu (a device's departure ends its calls in the
	// same step) and hands expired HTTP devices back to detachLocked.
	s.pres = presence.New(presence.Options{Lock: &s.mu, Expired: s.detachLocked, Visible: s.visibleLocked, HTTPTimeout: o.HTTPPresenceTimeout,
		EventsPerUser: o.EventsPerUser, Now: o.Now, Logger: o.Logger})
	for _, n := range names {
		s.userLocked(n)
	}
	return s
}

func (s *Service) userLocked(name string) *user {
	u := s.users[name]
	if u == nil {
		u = &user{User: s.pres.User(name), calls: map[string]*Call{}}
		s.users[name] = u
	}
	return u
}

// attachedLocked reports whether d is still a device of its user.
func (s *Service) attachedLocked(d *Device) bool {
	u := s.users[d.User]
	return u != nil && u.Has(d)
}

// Log returns user's event log (creating the user's entry).
func (s *Service) Log(name string) *events.Log {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(name).Log
}

// Attach registers a new device (an RTMP connection) of user. The user is
// online from now on until its last device is detached.
func (s *Service) Attach(name, kind string) *Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(name)
	d := s.pres.Attach(u.User, kind)
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
	if !s.pres.Remove(d) {
		return
	}
	u := s.users[d.User]
	for _, c := range sortedCalls(u.calls) {
		switch {
		case c.state == stateActive && (c.callerDevice == d.ID || c.calleeDevice == d.ID):
			s.endLocked(c, EvBye, ReasonGone, d.User)
		case c.state == stateRinging && c.From == d.User && c.callerDevice == d.ID:
			s.endLocked(c, EvCanceled, ReasonGone, d.User)
		case c.state == stateRinging && c.To == d.User && !u.Online():
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
	d, added, end := s.pres.HTTPBegin(u.User)
	if added {
		s.presenceLocked(u)
	}
	return d, end
}

// Presence returns every known user's presence, whoever watches whom (the
// operator's view; a user's is PresenceFor).
func (s *Service) Presence() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.users))
	for n, u := range s.users {
		out[n] = s.statusLocked(u)
	}
	return out
}

func statusOf(u *user) string {
	switch {
	case !u.Online():
		return Offline
	case len(u.calls) > 0:
		return Busy
	}
	return Online
}

// presenceLocked tells every other known user when u's presence changed.
func (s *Service) presenceLocked(u *user) {
	s.pres.Tell(u.User, s.statusLocked(u))
	s.localChangedLocked(u)
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
	s.pres.Close()
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
	return s.pres.Undelivered()
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
