package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/media"
)

// AdminCalls are the calls the dashboard lists and ends (call.Service).
type AdminCalls interface {
	Calls() []call.CallInfo
	EndByOperator(id, operator string) error
	Presence() map[string]string
}

// AdminRooms are the conference rooms the dashboard lists, ends, locks
// and unlocks, and whose members it removes, mutes and unmutes
// (conference.Service).
type AdminRooms interface {
	Rooms() []conference.RoomInfo
	End(by, room string) error
	Remove(room, member, operator string) error
	MuteByOperator(room, member, operator string, muted bool) error
	LockByOperator(room, operator string, locked bool) error
}

// AdminStreams lists the hub's streams (media.Hub).
type AdminStreams interface {
	Streams() []media.StreamInfo
}

// SIPTrunk is a trunk's registration state as the dashboard shows it.
type SIPTrunk struct {
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Register   bool      `json:"register"`
	Registered bool      `json:"registered"`
	Since      time.Time `json:"since,omitzero"`
	Error      string    `json:"error,omitempty"`
}

// SIPPhone is one registered SIP phone's binding.
type SIPPhone struct {
	User      string    `json:"user"`
	Contact   string    `json:"contact"`
	Transport string    `json:"transport"`
	Source    string    `json:"source"`
	Expires   time.Time `json:"expires"`
}

// AdminSIP is the SIP bridge's state (adapted from package sipbridge).
type AdminSIP interface {
	Trunks() []SIPTrunk
	Phones() []SIPPhone
}

// Live watches the services for the operator's dashboard: it keeps the
// current overview under a version that grows at each change (long-poll
// "changed since version N", GET /api/v1/admin/live) and a ring of
// samples of concurrent calls and streams (GET /api/v1/admin/history).
// Serve owns the sampling; any request may refresh the overview. A nil
// source shows empty.
type Live struct {
	Calls   AdminCalls
	Rooms   AdminRooms
	Streams AdminStreams
	SIP     AdminSIP
	// Check is how often Serve looks for changes while a long-poll waits
	// (default 250 ms): the services have no global change feed, and a
	// look costs a few map walks under their locks (BenchmarkLiveRefresh:
	// about 2.3 ms with 250 calls).
	Check time.Duration
	// Sample is the history's interval (default 10 s), Keep its length
	// (default 360: an hour).
	Sample time.Duration
	Keep   int
	// Store keeps the samples across restarts (nil: in memory only), as
	// Node's in a store that several nodes share; Logger logs its
	// failures (admin_history.go).
	Store  HistoryStore
	Node   string
	Logger *slog.Logger

	mu      sync.Mutex
	version uint64
	state   []byte // the overview's JSON without version and time, to compare
	view    liveView
	changed chan struct{} // closed at the next change
	waiting atomic.Int32  // long-polls in wait: Serve looks for changes only for them
	hist    []Sample      // ring, oldest at hist[next] once full
	next    int
}

// Sample is one point of the dashboard's charts.
type Sample struct {
	At      time.Time `json:"t"`
	Calls   int       `json:"calls"`
	Streams int       `json:"streams"`
}

// liveView is the answer of GET /api/v1/admin/live.
type liveView struct {
	Version uint64                `json:"version"`
	Now     time.Time             `json:"now"`
	Users   []liveUser            `json:"users"`
	Calls   []liveCall            `json:"calls"`
	Rooms   []conference.RoomInfo `json:"rooms"`
	Streams []liveStream          `json:"streams"`
	Trunks  []SIPTrunk            `json:"trunks"`
	Phones  []SIPPhone            `json:"phones"`
}

type liveUser struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// liveCall is a call with the codecs its parties publish in.
type liveCall struct {
	call.CallInfo
	FromCodec string `json:"fromCodec,omitempty"`
	ToCodec   string `json:"toCodec,omitempty"`
}

type liveStream struct {
	Name      string `json:"name"`
	Published bool   `json:"published"`
	Codec     string `json:"codec,omitempty"`
	Players   int    `json:"players"`
	Call      string `json:"call,omitempty"` // the call it carries, if any
}

func (l *Live) keep() int {
	if l.Keep > 0 {
		return l.Keep
	}
	return 360
}

// Serve refreshes the overview every Check and samples the history
// every Sample until ctx ends.
func (l *Live) Serve(ctx context.Context) error {
	check := time.NewTicker(durationOr(l.Check, 250*time.Millisecond))
	defer check.Stop()
	sample := time.NewTicker(durationOr(l.Sample, 10*time.Second))
	defer sample.Stop()
	l.load(ctx)
	l.record(l.refresh())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-check.C:
			if l.waiting.Load() > 0 { // a new request refreshes by itself
				l.refresh()
			}
		case <-sample.C:
			l.record(l.refresh())
		}
	}
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// record adds a history sample of v.
func (l *Live) record(v liveView) {
	s := Sample{At: v.Now.Truncate(time.Second), Calls: len(v.Calls), Streams: 0}
	for _, st := range v.Streams {
		if st.Published {
			s.Streams++
		}
	}
	l.add(s)
	l.save(s)
}

// add puts s in the ring, unless the newest sample is at the same second
// (a restart within a second of a stored sample).
func (l *Live) add(s Sample) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.hist); n > 0 && l.hist[(l.next+n-1)%n].At.Equal(s.At) {
		return
	}
	if len(l.hist) < l.keep() {
		l.hist = append(l.hist, s)
		return
	}
	l.hist[l.next] = s
	l.next = (l.next + 1) % len(l.hist)
}

// History returns the samples, oldest first.
func (l *Live) History() []Sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(append([]Sample{}, l.hist[l.next:]...), l.hist[:l.next]...)
}

// refresh reads the services, bumps the version if anything changed, and
// returns the current view.
func (l *Live) refresh() liveView {
	v := l.read()
	b, _ := json.Marshal(v) // Version and Now are zero here: only state is compared
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	if l.version == 0 || !bytes.Equal(b, l.state) {
		l.version++
		l.state = b
		close(l.changed)
		l.changed = make(chan struct{})
	}
	v.Version, v.Now = l.version, time.Now().UTC()
	l.view = v
	return v
}

// wait returns the view once its version is past since, or the current
// one when ctx ends first.
func (l *Live) wait(ctx context.Context, since uint64) liveView {
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	v := l.refresh()
	for v.Version <= since {
		l.mu.Lock()
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return l.refresh()
		case <-ch:
			v = l.refresh()
		}
	}
	return v
}

// read gathers the overview from the services (no version, no time).
func (l *Live) read() liveView {
	v := liveView{Users: []liveUser{}, Calls: []liveCall{}, Rooms: []conference.RoomInfo{}, Streams: []liveStream{},
		Trunks: []SIPTrunk{}, Phones: []SIPPhone{}}
	var streams []media.StreamInfo
	if l.Streams != nil {
		streams = l.Streams.Streams()
	}
	codecOf := map[string]string{}
	for _, s := range streams {
		if s.Codec != 0 {
			codecOf[s.Key] = s.Codec.String()
		}
	}
	callOf := map[string]string{}
	if l.Calls != nil {
		for name, st := range l.Calls.Presence() {
			if st != call.Offline {
				v.Users = append(v.Users, liveUser{Name: name, Status: st})
			}
		}
		slices.SortFunc(v.Users, func(a, b liveUser) int { return strings.Compare(a.Name, b.Name) })
		for _, c := range l.Calls.Calls() {
			v.Calls = append(v.Calls, liveCall{CallInfo: c, FromCodec: codecOf[c.Streams[0]], ToCodec: codecOf[c.Streams[1]]})
			for _, k := range c.Streams {
				if k != "" {
					callOf[k] = c.ID
				}
			}
		}
	}
	if l.Rooms != nil {
		v.Rooms = append(v.Rooms, l.Rooms.Rooms()...)
	}
	for _, s := range streams {
		v.Streams = append(v.Streams, liveStream{Name: redactStream(s.Key), Published: s.Published, Codec: codecOf[s.Key],
			Players: s.Players, Call: callOf[s.Key]})
	}
	if l.SIP != nil {
		v.Trunks = append(v.Trunks, l.SIP.Trunks()...)
		v.Phones = append(v.Phones, l.SIP.Phones()...)
	}
	return v
}

// issuedPrefixes start the hub keys of streams whose names are issued
// secrets (a call's, a room member's): only their parties may play them.
var issuedPrefixes = []string{"phone/", "conf/"}

// redactStream shows an issued stream name's first characters only: the
// dashboard (and a screenshot of it) must not hand out a playable name.
func redactStream(key string) string {
	for _, p := range issuedPrefixes {
		if rest, ok := strings.CutPrefix(key, p); ok && len(rest) > 6 {
			return p + rest[:6] + "…"
		}
	}
	return key
}
