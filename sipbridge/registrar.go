package sipbridge

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/flashvox/flashvox/call"
)

// Registration limits (defaults of Options).
const (
	defaultRegisterExpires    = 3600
	defaultRegisterMinExpires = 60
	defaultMaxBindings        = 10 // contacts per user
)

// binding is one registered contact of a user: a SIP phone. The call
// service knows it as a device of kind sip, so the user is online while
// it is registered and every call to the user rings it too.
type binding struct {
	user      string
	uri       string // the phone's Contact URI: where INVITEs go
	transport string // udp | tcp, as it registered
	source    string
	dev       *call.Device
	expires   time.Time
	timer     *time.Timer
	cancel    context.CancelFunc // ends the follower and the phone's calls
}

// registrar holds the bindings. The REGISTER handlers and expiry timers
// write it; lock order is registrar.mu before call.Service's.
type registrar struct {
	mu       sync.Mutex
	bindings map[string]*binding // user + " " + contact URI
	loading  bool                // loadBindings runs: no saving per binding
	saveMu   sync.Mutex          // serializes saveBindings (regstore.go)
}

func bindingKey(user, uri string) string { return user + " " + uri }

// serveRegister answers a REGISTER: 401 with a challenge until the phone
// proves it is the user it registers as, then adds, refreshes or removes
// its bindings and lists the user's current ones in the 200.
func (b *Bridge) serveRegister(r registration) {
	log := b.log.With("user", r.User(), "source", r.Source())
	// The address of record is the To user; the digest user must be it
	// and so must the From user (RFC 3261 10.3: a third-party
	// registration is not offered).
	user, v, err := b.auth.check(authRequest{header: r.Header("Authorization"), method: r.Method(),
		uri: r.RequestURI(), source: r.Source(), claimed: r.User()})
	if v == verdictOK && r.FromUser() != user {
		v, err = verdictRefused, errBadCredentials
	}
	if v != verdictOK {
		code, reason, hs := b.refusal(v, err, "WWW-Authenticate", r.Source())
		log.Debug("sip register not authenticated", "err", err, "code", code)
		b.respondRegister(r, log, code, reason, hs...)
		return
	}
	contacts := r.Contacts()
	type change struct {
		uri string
		exp int
	}
	var changes []change
	for _, c := range contacts {
		exp := c.Expires
		if exp < 0 {
			exp = r.Expires()
		}
		if exp < 0 {
			exp = defaultRegisterExpires
		}
		switch {
		case c.Wildcard && exp != 0:
			b.respondRegister(r, log, 400, "Bad Request")
			return
		case c.Wildcard:
			for _, bd := range b.userBindings(user) {
				changes = append(changes, change{bd.uri, 0})
			}
			continue
		case exp > 0 && exp < b.opts.RegisterMinExpires:
			b.respondRegister(r, log, 423, "Interval Too Brief", [2]string{"Min-Expires", strconv.Itoa(b.opts.RegisterMinExpires)})
			return
		}
		changes = append(changes, change{c.URI, min(exp, b.opts.RegisterMaxExpires)})
	}
	for _, c := range changes {
		if c.exp == 0 {
			b.unbind(user, c.uri, "unregistered")
			continue
		}
		err := b.bind(user, c.uri, r.Transport(), r.Source(), time.Duration(c.exp)*time.Second)
		b.saveBindings()
		if err != nil {
			log.Warn("sip register refused", "err", err)
			b.respondRegister(r, log, 403, "Too Many Registrations")
			return
		}
	}
	var hs [][2]string
	now := b.opts.Now()
	for _, bd := range b.userBindings(user) {
		left := max(int(bd.expires.Sub(now)/time.Second), 1)
		hs = append(hs, [2]string{"Contact", fmt.Sprintf("<%s>;expires=%d", bd.uri, left)})
	}
	b.respondRegister(r, log, 200, "OK", hs...)
}

func (b *Bridge) respondRegister(r registration, log *slog.Logger, code int, reason string, hs ...[2]string) {
	if err := r.Respond(code, reason, hs...); err != nil {
		log.Debug("register response failed", "code", code, "err", err)
	}
}

// userBindings lists user's bindings in a stable order.
func (b *Bridge) userBindings(user string) []*binding {
	b.regs.mu.Lock()
	defer b.regs.mu.Unlock()
	var out []*binding
	for _, bd := range b.regs.bindings {
		if bd.user == user {
			out = append(out, bd)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dev.ID < out[j].dev.ID })
	return out
}

// bind adds or refreshes user's contact uri for ttl.
func (b *Bridge) bind(user, uri, transport, source string, ttl time.Duration) error {
	b.regs.mu.Lock()
	defer b.regs.mu.Unlock()
	if b.regs.bindings == nil {
		b.regs.bindings = map[string]*binding{}
	}
	key := bindingKey(user, uri)
	if bd := b.regs.bindings[key]; bd != nil {
		bd.expires = b.opts.Now().Add(ttl)
		bd.timer.Reset(ttl)
		bd.source, bd.transport = source, transport
		return nil
	}
	n := 0
	for _, bd := range b.regs.bindings {
		if bd.user == user {
			n++
		}
	}
	if n >= b.opts.MaxBindings {
		return fmt.Errorf("sip: user %s has %d registrations already", user, n)
	}
	ctx, cancel := context.WithCancel(b.ctx)
	bd := &binding{user: user, uri: uri, transport: transport, source: source, expires: b.opts.Now().Add(ttl), cancel: cancel}
	cursor := b.calls.Log(user).Head() // before Attach: no incoming call is missed
	bd.dev = b.calls.Attach(user, call.KindSIP)
	bd.timer = time.AfterFunc(ttl, func() { b.unbind(user, uri, "expired") })
	b.regs.bindings[key] = bd
	b.Stats.Registrations.Add(1)
	if !b.goLeg(func() { b.followBinding(ctx, bd, cursor) }) {
		cancel()
	}
	b.log.Info("sip phone registered", "user", user, "contact", uri, "source", source, "expires", ttl)
	return nil
}

// unbind removes user's contact uri: the device goes away (its calls end)
// and the follower stops.
func (b *Bridge) unbind(user, uri, why string) {
	b.regs.mu.Lock()
	bd := b.regs.bindings[bindingKey(user, uri)]
	if bd != nil {
		delete(b.regs.bindings, bindingKey(user, uri))
		bd.timer.Stop()
	}
	b.regs.mu.Unlock()
	if bd == nil {
		return
	}
	b.Stats.Registrations.Add(-1)
	b.saveBindings()
	b.calls.Detach(bd.dev)
	bd.cancel()
	b.log.Info("sip phone unregistered", "user", user, "contact", uri, "why", why)
}

// closeBindings stops every expiry timer (Close).
func (b *Bridge) closeBindings() {
	b.regs.mu.Lock()
	defer b.regs.mu.Unlock()
	for _, bd := range b.regs.bindings {
		bd.timer.Stop()
	}
}

// Registered returns user's registered contact URIs.
func (b *Bridge) Registered(user string) []string {
	var out []string
	for _, bd := range b.userBindings(user) {
		out = append(out, bd.uri)
	}
	return out
}

// followBinding reads the user's event log from cursor and rings the
// phone for every incoming call, until ctx ends (unregistered, closed).
// Later events of a call it rings go to that call's leg.
func (b *Bridge) followBinding(ctx context.Context, bd *binding, cursor uint64) {
	lg := b.calls.Log(bd.user)
	legs := map[string]*eventQueue{}
	for {
		p, err := lg.Wait(ctx, cursor, 0)
		if err != nil {
			return
		}
		cursor = p.Next
		for _, en := range p.Events {
			e, ok := en.Event.(call.Event) // room events are not the phone's
			if !ok {
				continue
			}
			if q := legs[e.Call]; q != nil {
				q.Event(e)
				if isEnd(e) {
					delete(legs, e.Call)
				}
				continue
			}
			if e.Type == call.EvIncoming && e.To == bd.user {
				q := newEventQueue()
				legs[e.Call] = q
				b.goLeg(func() { b.ringPhone(ctx, bd, e, q) })
			}
		}
	}
}
