package rtmfp

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
	"github.com/flashvox/flashvox/rtmp/message"
)

// simLink is a deterministic lossy, reordering link between two sessions
// driven by a simulated clock.
type simLink struct {
	t       *testing.T
	now     time.Time
	start   time.Time
	rng     *rand.Rand
	loss    float64 // probability a datagram is dropped
	reorder float64 // probability a datagram is delayed by an extra 15 ms
	delay   time.Duration
	// rate, when set, is a bottleneck (bytes per second) on the way from
	// ends[0] to ends[1] with an unbounded buffer: packets queue behind it,
	// none is dropped, so only the delay tells of the congestion.
	rate    int
	busy    time.Time // when the bottleneck has sent what it holds
	queue   []simPacket
	ends    [2]*session
	sent    int
	dropped int
}

type simPacket struct {
	at   time.Time
	to   *session
	from netip.AddrPort
	b    []byte
	seq  int
}

// simEnd is one side's sender: it delivers to the other session.
type simEnd struct {
	l    *simLink
	peer **session
	addr netip.AddrPort
}

func (e simEnd) epoch() time.Time { return e.l.start }

func (e simEnd) writeTo(b []byte, _ netip.AddrPort) {
	l := e.l
	l.sent++
	if l.rng.Float64() < l.loss {
		l.dropped++
		return
	}
	at := l.now.Add(l.delay)
	if l.rate > 0 && *e.peer == l.ends[1] {
		l.busy = later(l.busy, l.now).Add(time.Duration(len(b)) * time.Second / time.Duration(l.rate))
		at = l.busy.Add(l.delay)
	}
	if l.rng.Float64() < l.reorder {
		at = at.Add(15 * time.Millisecond)
	}
	l.queue = append(l.queue, simPacket{at: at, to: *e.peer, from: e.addr, b: append([]byte(nil), b...), seq: l.sent})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pair makes an initiator and a responder session joined by a link.
func pair(t *testing.T, loss, reorder float64, seed uint64) (l *simLink, a, b *session) {
	t.Helper()
	l = &simLink{t: t, start: time.Unix(1e6, 0), rng: rand.New(rand.NewPCG(seed, 1)), loss: loss, reorder: reorder, delay: 10 * time.Millisecond}
	l.now = l.start
	srv := wire.NewIdentity(bytes.Repeat([]byte{1}, 64), true)
	rc, _ := wire.ParsePeerCert(srv.Cert)
	ik, err := wire.NewInitiatorKeying(rc, wire.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	ic, _ := wire.ParsePeerCert(wire.NewIdentity(bytes.Repeat([]byte{2}, 64), false).Cert)
	skrc, rkeys, err := wire.RespondKeying(ik.SKIC, ic, wire.Policy{RequireHMAC: true, RequireSeq: true})
	if err != nil {
		t.Fatal(err)
	}
	ikeys, err := ik.Finish(skrc, rc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{AudioLifetime: 100 * time.Millisecond}
	cfg.Defaults()
	aAddr, bAddr := netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")
	log := slog.New(slog.DiscardHandler)
	a = newSession(simEnd{l, &b, aAddr}, wire.ModeInitiator, 1, 2, bAddr, ikeys, cfg.limits(), &Stats{}, log, l.now)
	b = newSession(simEnd{l, &a, bAddr}, wire.ModeResponder, 2, 1, aAddr, rkeys, cfg.limits(), &Stats{}, log, l.now)
	l.ends = [2]*session{a, b}
	return l, a, b
}

// run advances the clock by d in 5 ms steps, delivering and ticking.
func (l *simLink) run(d time.Duration) {
	end := l.now.Add(d)
	var pkt wire.Packet
	for l.now.Before(end) {
		l.now = l.now.Add(5 * time.Millisecond)
		sort.SliceStable(l.queue, func(i, j int) bool { return l.queue[i].at.Before(l.queue[j].at) })
		for len(l.queue) > 0 && !l.queue[0].at.After(l.now) {
			p := l.queue[0]
			l.queue = l.queue[1:]
			s := p.to
			s.mu.Lock()
			plain, err := s.crypto.Open(nil, p.b[4:])
			if err != nil {
				l.t.Fatalf("packet %d does not open: %v", p.seq, err)
			}
			if err := pkt.Unmarshal(plain); err != nil {
				l.t.Fatalf("packet %d does not parse: %v\n%x", p.seq, err, plain)
			}
			s.onPacket(&pkt, p.from, l.now)
			s.mu.Unlock()
		}
		if (l.now.Sub(l.start)/time.Millisecond)%20 == 0 {
			for _, s := range l.ends {
				s.tick(l.now)
			}
		}
	}
}

// tcMsg frames n as a TC audio or data message with its index.
func tcMsg(typ uint8, i, size int) []byte {
	b := make([]byte, tcHeaderSize+size)
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:], uint32(i))
	for j := tcHeaderSize; j < len(b); j++ {
		b[j] = byte(i + j)
	}
	return b
}

// write queues a TC message on f and transmits (as Conn.WriteMessage does).
func write(l *simLink, s *session, f *sendFlow, msg []byte) {
	s.mu.Lock()
	f.write(msg, l.now)
	s.transmit(l.now)
	s.mu.Unlock()
}

// TestFlowLossyLink: 10 % loss and reordering; a reliable flow still
// delivers every message, whole and in order (small, multi-fragment).
func TestFlowLossyLink(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		l, a, b := pair(t, 0.10, 0.10, seed)
		a.mu.Lock()
		f := a.openSendFlow(tcMetadata(0), 0, false, 1, 0)
		a.mu.Unlock()
		var want [][]byte
		for i := range 120 {
			size := 60
			if i%10 == 0 {
				size = 3000 // three fragments
			}
			m := tcMsg(20, i, size)
			want = append(want, m)
			write(l, a, f, m)
			l.run(20 * time.Millisecond)
		}
		l.run(8 * time.Second)
		got := drain(b)
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d of %d messages delivered (sent %d datagrams, dropped %d)", seed, len(got), len(want), l.sent, l.dropped)
		}
		for i := range want {
			if !bytes.Equal(got[i].Payload, want[i][tcHeaderSize:]) {
				t.Fatalf("seed %d: message %d differs", seed, i)
			}
		}
		a.mu.Lock()
		if len(f.frags) != 0 || a.stats.Retransmissions.Load() == 0 {
			t.Errorf("seed %d: %d fragments unacknowledged, %d retransmissions", seed, len(f.frags), a.stats.Retransmissions.Load())
		}
		a.mu.Unlock()
	}
}

// TestFlowAudioLifetime: with 30 % loss, audio older than its lifetime is
// abandoned, later audio is still delivered in order, nothing old piles up.
func TestFlowAudioLifetime(t *testing.T) {
	l, a, b := pair(t, 0.30, 0.05, 7)
	a.mu.Lock()
	f := a.openSendFlow(tcMetadata(1), 0, false, 0, 100*time.Millisecond)
	a.mu.Unlock()
	for i := range 300 { // 6 s of 20 ms voice
		write(l, a, f, tcMsg(8, i, 70))
		l.run(20 * time.Millisecond)
	}
	l.run(2 * time.Second)
	got := drain(b)
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp <= got[i-1].Timestamp {
			t.Fatalf("voice %d delivered after %d", got[i].Timestamp, got[i-1].Timestamp)
		}
	}
	a.mu.Lock()
	abandoned := a.stats.Abandoned.Load()
	left := len(f.frags)
	a.mu.Unlock()
	if abandoned == 0 {
		t.Error("nothing abandoned at 30 % loss")
	}
	if left != 0 {
		t.Errorf("%d fragments still queued after the lifetime", left)
	}
	if len(got) < 150 {
		t.Errorf("only %d of 300 voice messages delivered", len(got))
	}
	t.Logf("delivered %d/300, abandoned %d, retransmissions %d", len(got), abandoned, a.stats.Retransmissions.Load())
}

// drain takes the messages b's Conn received, in order.
func drain(b *session) []*message.Message {
	var out []*message.Message
	for {
		select {
		case m := <-b.conn.in:
			out = append(out, m)
		default:
			return out
		}
	}
}
