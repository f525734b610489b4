package conference

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// Member kinds.
const (
	KindWeb = "web" // an RTMP or HTTP user
	KindSIP = "sip" // a SIP phone through sipbridge
)

// JoinOptions describe who joins and how it wants to hear.
type JoinOptions struct {
	User string // a user name, or for SIP the caller ("sip:FROM")
	Kind string // KindWeb (default), KindSIP or KindCall
	PIN  string
	// Addr is the joining client's address (IP or IP:port), which
	// Options.Throttle slows after wrong PINs; "" = not throttled.
	Addr string
	// Mode is asked by the member that creates an ad-hoc room ("" = the default).
	Mode Mode
	// Codec and Rate are what the member's mix is encoded in (mixed mode);
	// 0 = the codec of the member's own audio once it sends some.
	Codec  codec.ID
	Rate   int
	Notify Notifier // may be nil
	// Transport names what carries the member (rtmp, rtmfp, http, sip),
	// for its membership record; "" = its Kind.
	Transport string
	// from is a join forwarded by another node (remote.go).
	from remoteFrom
}

// MemberInfo is what members are told about each other.
type MemberInfo struct {
	ID    string `json:"id"`
	User  string `json:"user"`
	Kind  string `json:"kind"`
	Muted bool   `json:"muted"`
	// Play is the member's stream for the others (relay rooms only).
	Play string `json:"play,omitempty"`
}

// Joined is the answer to a join.
type Joined struct {
	Room      string       `json:"room"`
	Member    string       `json:"member"`
	Mode      Mode         `json:"mode"`
	Publish   string       `json:"publish"`        // the stream name to publish
	Play      string       `json:"play,omitempty"` // mixed: the stream name of this member's mix
	Moderator bool         `json:"moderator"`
	Members   []MemberInfo `json:"members"` // the others; relay: play each one's Play
}

// Member is one participant of a room. Its methods are safe for concurrent use.
type Member struct {
	ID   string
	User string
	Kind string

	room   *room
	notify Notifier
	// Issued names: pub is what the member publishes; fwd is its gated copy
	// the others play (relay); mix is the mix it plays (mixed).
	pub, fwd, mix string
	codec         codec.ID
	rate          int
	muted         atomic.Bool
	joined        time.Time // record
	transport     string    // record
	// node is the node whose client this member is ("" = here): the
	// member's events go there (remote.go).
	node string

	// Guarded by room.mu.
	gate  *gate
	in    *input // mixed: the mixer's view of this member
	left  bool
	done  chan struct{}
	leave sync.Once
}

// Done is closed when the member is out of the room (left, kicked, room ended).
func (m *Member) Done() <-chan struct{} { return m.done }

// Room is the name of the member's room.
func (m *Member) Room() string { return m.room.name }

// PublishKey is the hub key the member's audio goes to.
func (m *Member) PublishKey() string { return m.room.svc.opts.StreamPrefix + m.pub }

// PlayKey is the hub key of the member's mix (mixed rooms; "" in relay).
func (m *Member) PlayKey() string {
	m.room.mu.Lock()
	defer m.room.mu.Unlock()
	if m.room.mode != ModeMixed {
		return ""
	}
	return m.room.svc.opts.StreamPrefix + m.mix
}

// Leave takes the member out of its room; the room ends with its last member.
func (m *Member) Leave() { m.room.remove(m, ReasonLeft, "") }

// Gone is Leave for a member whose connection went away.
func (m *Member) Gone() { m.room.remove(m, ReasonGone, "") }

func (m *Member) info() MemberInfo {
	i := MemberInfo{ID: m.ID, User: m.User, Kind: m.Kind, Muted: m.muted.Load()}
	if m.room.mode == ModeRelay {
		i.Play = m.fwd
	}
	return i
}

func (m *Member) tell(e Event) {
	if m.notify != nil {
		m.notify(e)
	}
}

// gate forwards a relay member's frames, untouched, from its published
// stream to the stream the others play, unless the member is muted. It runs
// as a hub receiver on the publisher's goroutine: one atomic load and one
// Write per frame.
type gate struct {
	sub *media.Subscriber
	pub *media.Publisher
}

func openGate(h *media.Hub, m *Member, prefix string) (*gate, error) {
	pub, err := h.Publish(prefix + m.fwd)
	if err != nil {
		return nil, err
	}
	g := &gate{pub: pub}
	// The receiver may write to another stream's publisher: that takes only
	// that stream's lock, never the hub's, so it cannot deadlock.
	g.sub = h.Subscribe(prefix+m.pub, media.ReceiverFunc(func(f *media.Frame) {
		switch f.Kind {
		case media.KindAudio, media.KindVideo, media.KindData:
			if !m.muted.Load() {
				pub.Write(f)
			}
		}
	}))
	return g, nil
}

func (g *gate) close() {
	g.sub.Close()
	g.pub.Close()
}
