package rtmfp

import (
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

// TestKeepaliveAndIdle: silent sessions ping each other and stay open;
// when the link dies, both end after the idle timeout with ErrIdle.
func TestKeepaliveAndIdle(t *testing.T) {
	l, a, b := pair(t, 0, 0, 3)
	l.run(300 * time.Second) // more than twice the idle timeout
	for _, s := range []*session{a, b} {
		select {
		case <-s.conn.Done():
			t.Fatalf("session ended while keepalives flowed: %v", s.conn.err)
		default:
		}
	}
	l.loss = 1
	l.run(125 * time.Second)
	for _, s := range []*session{a, b} {
		select {
		case <-s.conn.Done():
			if !errors.Is(s.conn.err, ErrIdle) {
				t.Errorf("ended with %v, want ErrIdle", s.conn.err)
			}
		default:
			t.Fatal("session still open after the idle timeout with a dead link")
		}
	}
}

// TestClose: Close is answered with Close Acknowledgement; the far end's
// Conn reads EOF, the near end is done.
func TestClose(t *testing.T) {
	l, a, b := pair(t, 0, 0, 4)
	a.mu.Lock()
	a.close(l.now)
	a.mu.Unlock()
	l.run(100 * time.Millisecond)
	if _, err := b.conn.ReadMessage(); err != io.EOF {
		t.Errorf("far end read %v, want EOF", err)
	}
	a.mu.Lock()
	st := a.state
	a.mu.Unlock()
	if st != stateClosed {
		t.Errorf("near end state %v after the acknowledgement", st)
	}
	if !b.tick(l.now.Add(farCloseLinger + time.Second)) {
		t.Error("far end not forgotten after its linger")
	}
}

// TestCloseRetries: with the Close lost, it is sent again each second and
// the session gives up after closeGiveUp.
func TestCloseRetries(t *testing.T) {
	l, a, _ := pair(t, 1, 0, 5)
	a.mu.Lock()
	a.close(l.now)
	a.mu.Unlock()
	sent := l.sent
	l.run(closeGiveUp + 2*time.Second)
	if l.sent-sent < 8 {
		t.Errorf("%d Close retries in %s", l.sent-sent, closeGiveUp)
	}
	if !a.tick(l.now) {
		t.Error("not done after giving up")
	}
}

// TestFlowLimitAndReject: flows past the limit and flows without TC
// metadata are rejected with an exception; the sender forgets them.
func TestFlowLimitAndReject(t *testing.T) {
	l, a, b := pair(t, 0, 0, 6)
	b.lim.maxFlows = 2
	var flows []*sendFlow
	a.mu.Lock()
	for i := range 3 {
		flows = append(flows, a.openSendFlow(tcMetadata(uint32(i)), 0, false, 1, 0))
	}
	bad := a.openSendFlow([]byte("not TC"), 0, false, 1, 0)
	a.mu.Unlock()
	for _, f := range append(flows, bad) {
		write(l, a, f, tcMsg(20, 1, 10))
	}
	l.run(time.Second)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sendFlows[flows[2].id] != nil || a.sendFlows[bad.id] != nil {
		t.Error("rejected flows still open at the sender")
	}
	if a.sendFlows[flows[0].id] == nil || a.sendFlows[flows[1].id] == nil {
		t.Error("accepted flows closed")
	}
	if len(b.recvFlows) != 2 {
		t.Errorf("receiver has %d flows, limit 2", len(b.recvFlows))
	}
}

// TestFlowBufferLimit: a message larger than the flow's reassembly buffer
// is never accepted; memory stays bounded and the session stays up.
func TestFlowBufferLimit(t *testing.T) {
	l, a, b := pair(t, 0, 0, 8)
	b.lim.flowBuffer = 8192
	a.mu.Lock()
	f := a.openSendFlow(tcMetadata(0), 0, false, 1, 0)
	a.mu.Unlock()
	write(l, a, f, tcMsg(20, 1, 64<<10))
	l.run(3 * time.Second)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recvBytes > 8192 {
		t.Errorf("%d bytes buffered, limit 8192", b.recvBytes)
	}
	if len(b.conn.in) != 0 {
		t.Error("oversized message delivered")
	}
}

// TestMobility: the initiator's address changes (NAT rebinding); the
// responder checks the new address with an 'M' ping and moves there only
// when the ping comes back from it.
func TestMobility(t *testing.T) {
	l, a, b := pair(t, 0, 0, 9)
	moved := netip.MustParseAddrPort("10.0.0.9:9")
	a.mu.Lock()
	a.out = simEnd{l, &b, moved}
	f := a.openSendFlow(tcMetadata(0), 0, false, 1, 0)
	a.mu.Unlock()
	write(l, a, f, tcMsg(20, 1, 10))
	l.run(200 * time.Millisecond)
	b.mu.Lock()
	got := b.addr
	b.mu.Unlock()
	if got != moved {
		t.Errorf("responder still sends to %v, want %v", got, moved)
	}
	if n := len(drain(b)); n != 1 {
		t.Errorf("%d messages delivered across the move, want 1", n)
	}
}

// TestPreConnectBuffer: before Admit, the messages a peer has begun on all
// its flows are held to lim.preConnect; after Admit the session's whole
// SessionBuffer is open, and a message of that size is delivered.
func TestPreConnectBuffer(t *testing.T) {
	l, a, b := pair(t, 0, 0, 10)
	b.lim.preConnect, b.lim.sessionBuffer, b.lim.flowBuffer = 4096, 256<<10, 128<<10
	a.mu.Lock()
	var flows []*sendFlow
	for i := range 4 {
		flows = append(flows, a.openSendFlow(tcMetadata(uint32(i)), 0, false, 1, 0))
	}
	a.mu.Unlock()
	for _, f := range flows {
		write(l, a, f, tcMsg(20, 1, 60<<10))
	}
	l.run(2 * time.Second)
	b.mu.Lock()
	held, delivered := b.recvBytes, len(b.conn.in)
	b.mu.Unlock()
	if held > 4096 || delivered != 0 {
		t.Fatalf("before Admit: %d bytes held, %d messages delivered; want at most 4096 and none", held, delivered)
	}
	b.conn.Admit()
	l.run(20 * time.Second) // retransmissions bring the rest
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.conn.in) != 4 {
		t.Fatalf("after Admit: %d of 4 messages delivered (%d bytes held)", len(b.conn.in), b.recvBytes)
	}
}
