package plane

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPlainDTLSRecords: unauthenticated DTLS records from each side's
// validated address — alerts in the clear, a malformed
// change_cipher_spec at epochs 0 and 1, application data at epoch 0,
// unknown content types, garbage handshake messages — end neither side.
// pion/dtls answered the malformed ones with a fatal alert to the peer
// (ending the peer's side) and reported them to Read (which ended the
// receiving side): the plane now drops them before pion (BadDTLS), and
// a record pion refuses no longer ends the session that received it.
func TestPlainDTLSRecords(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 1})
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	handshake := func(typ, seq byte, body ...byte) []byte {
		h := append([]byte{typ, 0, 0, byte(len(body)), 0, seq, 0, 0, 0, 0, 0, byte(len(body))}, body...)
		return append([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, byte(len(h))}, h...)
	}
	records := append(append([][]byte(nil), plainRecords...),
		handshake(1, 0, 1, 2, 3), handshake(20, 4, 1, 2, 3), handshake(16, 2, 1, 2, 3), handshake(11, 1, 0, 0, 0),
		append(append([]byte(nil), plainRecords[0]...), plainRecords[4]...), // an alert, then application data at epoch 0
		[]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 200, 1},          // a length past the datagram
	)
	const refused = 7 // bad change_cipher_spec ×2, epoch-0 data, types 24 and 25, the pair, the short one
	for _, rec := range records {
		if err := a.socks[0].writeTo(rec, b.Addr()); err != nil {
			t.Fatal(err)
		}
		if err := b.socks[0].writeTo(rec, a.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "the bad records refused on both sides", func() bool {
		return a.Stats.BadDTLS.Load() >= refused && b.Stats.BadDTLS.Load() >= refused
	})
	sendAudio(t, da, &rtp.Header{Version: 2, SSRC: 5}, 20)
	sendAudio(t, sb, &rtp.Header{Version: 2, SSRC: 6}, 20)
	testwait.For(t, 5*time.Second, "audio both ways after the records", func() bool { return gotA.Load() == 20 && gotB.Load() == 20 })
	if isDone(da) || isDone(sb) {
		t.Fatalf("a plaintext record ended a session: %v / %v", da.Err(), sb.Err())
	}

	// Past the filter (handed to pion directly), application data at
	// epoch 0 is an error pion reports to Read: counted, and the
	// receiving session reads on. (pion also sends the peer a fatal
	// alert for it, which ends the peer's side: why the filter is there.)
	bad := b.Stats.BadDTLS.Load()
	rec := append([]byte(nil), plainRecords[4]...)
	rec[10] = 100 // a sequence number not seen at epoch 0 (the handshake records above took 99)
	sb.mu.Lock()
	sb.pipe.in <- rec
	sb.mu.Unlock()
	testwait.For(t, 5*time.Second, "pion's refusal counted", func() bool { return b.Stats.BadDTLS.Load() == bad+1 })
	if isDone(sb) {
		t.Fatalf("a record pion refused ended the session: %v", sb.Err())
	}
}
