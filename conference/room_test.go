package conference

import (
	"errors"
	"fmt"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// Relay members learn each other's streams, may play only those, and get
// each other's frames untouched through the gate until muted.
func TestRelayStreamsAndGate(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeRelay})
	h := s.opts.Hub
	ra, rb := newRecorder(), newRecorder()
	a, ja, err := s.Join("r", JoinOptions{User: "alice", Notify: ra.notify})
	if err != nil {
		t.Fatal(err)
	}
	b, jb, err := s.Join("r", JoinOptions{User: "bob", Notify: rb.notify})
	if err != nil {
		t.Fatal(err)
	}
	if ja.Mode != ModeRelay || ja.Play != "" || len(ja.Members) != 0 || !ja.Moderator {
		t.Fatalf("alice joined %+v", ja)
	}
	if len(jb.Members) != 1 || jb.Members[0].User != "alice" || jb.Members[0].Play == "" || jb.Moderator {
		t.Fatalf("bob joined %+v", jb)
	}
	e := ra.wait(t, "joined", func(e Event) bool { return e.Type == EvJoined && e.User == "bob" })
	if e.Play == "" || e.Member != b.ID {
		t.Fatalf("alice told %+v", e)
	}
	// Access: bob plays alice's stream, publishes his own, nothing else.
	if k, err := s.StreamKey("bob", jb.Members[0].Play, false); err != nil || k == "" {
		t.Errorf("bob plays alice: %q %v", k, err)
	}
	if _, err := s.StreamKey("alice", jb.Members[0].Play, false); !errors.Is(err, ErrStreamDenied) {
		t.Errorf("alice plays herself: %v", err)
	}
	if _, err := s.StreamKey("carol", e.Play, false); !errors.Is(err, ErrStreamDenied) {
		t.Errorf("carol plays bob: %v", err)
	}
	if _, err := s.StreamKey("bob", jb.Publish, true); err != nil {
		t.Errorf("bob publishes: %v", err)
	}
	if _, err := s.StreamKey("alice", jb.Publish, true); !errors.Is(err, ErrStreamDenied) {
		t.Errorf("alice publishes bob's: %v", err)
	}
	// The gate forwards the same frame, and nothing while muted.
	key, _ := s.StreamKey("bob", jb.Members[0].Play, false)
	q := h.NewQueue(0)
	sub := h.Subscribe(key, q)
	defer sub.Close()
	pub, err := h.Publish(a.PublishKey())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	f1 := &media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Timestamp: 1, Payload: []byte{1}}
	pub.Write(f1)
	if got := q.TryNext(); got != f1 {
		t.Fatalf("forwarded %v, want the same frame", got)
	}
	if err := s.Mute("alice", "r", a.ID, true); err != nil {
		t.Fatal(err)
	}
	rb.wait(t, "muted", func(e Event) bool { return e.Type == EvMuted && e.Member == a.ID && e.Muted })
	pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Timestamp: 2, Payload: []byte{2}})
	if got := q.TryNext(); got != nil {
		t.Fatalf("muted member forwarded %v", got)
	}
	// Leaving tells the others; the last one out ends the room.
	a.Leave()
	rb.wait(t, "left", func(e Event) bool { return e.Type == EvLeft && e.Member == a.ID && e.Reason == ReasonLeft })
	<-a.Done()
	b.Gone()
	if _, err := s.Room("r"); !errors.Is(err, ErrNoRoom) {
		t.Errorf("room after the last left: %v", err)
	}
	if _, err := s.StreamKey("bob", jb.Publish, true); !errors.Is(err, ErrStreamDenied) {
		t.Errorf("publish after leaving: %v", err)
	}
}

// An auto room is relay up to RelayMaxMembers, then mixed; everyone is told.
func TestAutoBecomesMixed(t *testing.T) {
	s := newTestService(t, Options{RelayMaxMembers: 2})
	r1 := newRecorder()
	m1, j1, _ := s.Join("a", JoinOptions{User: "u1", Notify: r1.notify})
	_, j2, _ := s.Join("a", JoinOptions{User: "u2"})
	if j1.Mode != ModeRelay || j2.Mode != ModeRelay {
		t.Fatalf("modes %s %s", j1.Mode, j2.Mode)
	}
	_, j3, _ := s.Join("a", JoinOptions{User: "u3"})
	if j3.Mode != ModeMixed || j3.Play == "" {
		t.Fatalf("third joined %+v", j3)
	}
	e := r1.wait(t, "mode", func(e Event) bool { return e.Type == EvMode })
	if k, err := s.StreamKey("u1", e.Play, false); err != nil || k != m1.PlayKey() {
		t.Errorf("u1 plays its mix: %q %v", k, err)
	}
	// A SIP member makes an auto room mixed at once.
	_, js, err := s.Join("b", JoinOptions{User: "sip:100", Kind: KindSIP})
	if err != nil || js.Mode != ModeMixed {
		t.Fatalf("sip joined %+v %v", js, err)
	}
}

func TestLimitsAndModeration(t *testing.T) {
	s := newTestService(t, Options{MaxRooms: 2, MaxMembers: 2, Rooms: []RoomConfig{
		{Name: "board", PIN: "1234", Moderators: []string{"boss"}},
	}})
	if _, _, err := s.Join("bad room", JoinOptions{User: "x"}); !errors.Is(err, ErrBadRoom) {
		t.Errorf("bad name: %v", err)
	}
	if _, _, err := s.Join("board", JoinOptions{User: "x", PIN: "0000"}); !errors.Is(err, ErrBadPIN) {
		t.Errorf("bad pin: %v", err)
	}
	if _, _, err := s.Join("board", JoinOptions{User: "x", Mode: "loud"}); !errors.Is(err, ErrBadMode) {
		t.Errorf("bad mode: %v", err)
	}
	rx := newRecorder()
	x, jx, err := s.Join("board", JoinOptions{User: "x", PIN: "1234", Notify: rx.notify})
	if err != nil || jx.Moderator {
		t.Fatalf("x joined %+v %v", jx, err)
	}
	if err := s.Lock("x", "board", true); !errors.Is(err, ErrNotModerator) {
		t.Errorf("x locks: %v", err)
	}
	boss, _, err := s.Join("board", JoinOptions{User: "boss", PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Join("board", JoinOptions{User: "y", PIN: "1234"}); !errors.Is(err, ErrRoomFull) {
		t.Errorf("third member: %v", err)
	}
	if err := s.Lock("boss", "board", true); err != nil {
		t.Fatal(err)
	}
	rx.wait(t, "locked", func(e Event) bool { return e.Type == EvLocked && e.Locked && e.By == "boss" })
	if _, _, err := s.Join("other", JoinOptions{User: "z"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Join("third", JoinOptions{User: "z"}); !errors.Is(err, ErrTooManyRooms) {
		t.Errorf("third room: %v", err)
	}
	if err := s.Kick("x", "board", boss.ID); !errors.Is(err, ErrNotModerator) {
		t.Errorf("x kicks: %v", err)
	}
	if err := s.Kick("boss", "board", x.ID); err != nil {
		t.Fatal(err)
	}
	rx.wait(t, "kicked", func(e Event) bool { return e.Type == EvLeft && e.Reason == ReasonKicked && e.Member == x.ID })
	select {
	case <-x.Done():
	default:
		t.Error("kicked member not done")
	}
	if err := s.End("boss", "board"); err != nil {
		t.Fatal(err)
	}
	<-boss.Done()
	if got := len(s.Rooms()); got != 1 {
		t.Errorf("rooms after end: %d", got)
	}
	if err := s.Kick("boss", "board", x.ID); !errors.Is(err, ErrNoRoom) {
		t.Errorf("kick in an ended room: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range parseTargetCases {
		room, ok := ParseTarget(c.in)
		if room != c.room || ok != c.ok {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q, %v", c.in, room, ok, c.room, c.ok)
		}
	}
}

var parseTargetCases = []struct {
	in, room string
	ok       bool
}{
	{"conf:team", "team", true},
	{"conf:a.b_c-9", "a.b_c-9", true},
	{"conf:", "", false},
	{"conf:a b", "", false},
	{"team", "", false},
	{"conf:" + fmt.Sprint(make([]byte, 40)), "", false},
	{"CONF:x", "", false},
}

func FuzzParseTarget(f *testing.F) {
	for _, c := range parseTargetCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		room, ok := ParseTarget(in)
		if ok != (room != "") {
			t.Fatalf("%q: ok %v with room %q", in, ok, room)
		}
		if ok && TargetPrefix+room != in {
			t.Fatalf("%q does not round-trip: %q", in, room)
		}
	})
}
