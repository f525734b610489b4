package presence

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/flashvox/flashvox/events"
)

// Options configure a Registry.
type Options struct {
	// Lock is the owner's lock that guards the Registry; the HTTP device
	// timers take it.
	Lock sync.Locker
	// Expired is called, with Lock held, when an HTTP device's time is
	// up (HTTPTimeout after its last request). The owner ends what the
	// device carried and calls Remove (nil: Remove alone). A constructor
	// option, not a setter: the owner builds its Registry and hands its
	// own method.
	Expired func(*Device)
	// Visible reports whether user of's presence may be told to user to
	// (contacts); called with Lock held. nil: everyone sees everyone.
	Visible       func(of, to string) bool
	HTTPTimeout   time.Duration // default 40s
	EventsPerUser int           // log capacity per user (default 1000)
	Now           func() time.Time
	Logger        *slog.Logger
}

// Registry holds users, their devices, logs and last told status.
type Registry struct {
	opts  Options
	users map[string]*User
}

// User is one user: its event log and devices.
type User struct {
	Name    string
	Log     *events.Log
	devices map[string]*Device
	http    *Device // the user's HTTP device, if any
	status  string  // last presence told to the others
}

// New makes a Registry.
func New(o Options) *Registry {
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 40 * time.Second
	}
	if o.EventsPerUser <= 0 {
		o.EventsPerUser = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{opts: o, users: map[string]*User{}}
	if r.opts.Expired == nil {
		r.opts.Expired = func(d *Device) { r.Remove(d) }
	}
	return r
}

// User returns name's entry, creating it (offline) if new.
func (r *Registry) User(name string) *User {
	u := r.users[name]
	if u == nil {
		u = &User{Name: name, Log: events.NewLog(r.opts.EventsPerUser), devices: map[string]*Device{}, status: Offline}
		r.users[name] = u
	}
	return u
}

// Lookup returns name's entry, nil for a user never seen.
func (r *Registry) Lookup(name string) *User { return r.users[name] }

// Users calls f for every known user.
func (r *Registry) Users(f func(*User)) {
	for _, u := range r.users {
		f(u)
	}
}

// Online reports whether u has a device.
func (u *User) Online() bool { return len(u.devices) > 0 }

// Has reports whether d is one of u's devices now.
func (u *User) Has(d *Device) bool { return d != nil && u.devices[d.ID] == d }

// Device returns u's device id, nil when it is gone.
func (u *User) Device(id string) *Device { return u.devices[id] }

// Attach adds a new device of kind to u.
func (r *Registry) Attach(u *User, kind string) *Device {
	d := &Device{ID: randomID(8), User: u.Name, Kind: kind}
	u.devices[d.ID] = d
	r.opts.Logger.Info("device attached", "user", u.Name, "device", d.ID, "kind", kind)
	return d
}

// Remove takes d away from its user; false when it was not attached.
func (r *Registry) Remove(d *Device) bool {
	u := r.users[d.User]
	if u == nil || !u.Has(d) {
		return false
	}
	delete(u.devices, d.ID)
	d.gone = true
	if d.expiry != nil {
		d.expiry.Stop()
	}
	if u.http == d {
		u.http = nil
	}
	r.opts.Logger.Info("device detached", "user", d.User, "device", d.ID, "kind", d.Kind)
	return true
}

// Tell records st as u's presence and, when it changed, appends a
// presence event to the log of every other user who may see it
// (Options.Visible).
func (r *Registry) Tell(u *User, st string) {
	if st == u.status {
		return
	}
	u.status = st
	now := r.opts.Now()
	for _, w := range r.users {
		if w != u && (r.opts.Visible == nil || r.opts.Visible(u.Name, w.Name)) {
			w.Log.Append(now, Event{User: u.Name, Status: st})
		}
	}
}

// Status is u's presence as last told (Offline before any).
func (u *User) Status() string { return u.status }

// HTTPBegin marks the start of an HTTP request of u and returns u's HTTP
// device (attached now if u had none, then added reports true) and a
// function to call when the request ends. The device lives while
// requests are in flight and for HTTPTimeout after the last one.
func (r *Registry) HTTPBegin(u *User) (d *Device, added bool, end func()) {
	d = u.http
	if d == nil {
		d = r.Attach(u, KindHTTP)
		u.http, added = d, true
	}
	d.inflight++
	if d.expiry != nil {
		d.expiry.Stop()
	}
	var once sync.Once
	return d, added, func() { once.Do(func() { r.httpEnd(d) }) }
}

func (r *Registry) httpEnd(d *Device) {
	r.opts.Lock.Lock()
	defer r.opts.Lock.Unlock()
	d.inflight--
	if d.gone || d.inflight > 0 {
		return
	}
	d.expiry = time.AfterFunc(r.opts.HTTPTimeout, func() {
		r.opts.Lock.Lock()
		defer r.opts.Lock.Unlock()
		if d.inflight == 0 && !d.gone {
			r.opts.Expired(d)
		}
	})
}

// HTTPUsers counts the users with an HTTP device (one each, whatever the
// requests in flight): the page's users of the cluster's load.
func (r *Registry) HTTPUsers() int {
	n := 0
	for _, u := range r.users {
		if u.http != nil {
			n++
		}
	}
	return n
}

// Undelivered counts the pushing devices that have not yet delivered
// every event of their user's log.
func (r *Registry) Undelivered() int {
	n := 0
	for _, u := range r.users {
		head := u.Log.Head()
		for _, d := range u.devices {
			if d.pushes.Load() && d.delivered.Load() < head {
				n++
			}
		}
	}
	return n
}

// Close stops the HTTP device timers.
func (r *Registry) Close() {
	for _, u := range r.users {
		for _, d := range u.devices {
			if d.expiry != nil {
				d.expiry.Stop()
			}
		}
	}
}

// randomID returns n random bytes in hex (crypto/rand: device ids are
// not guessable).
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
