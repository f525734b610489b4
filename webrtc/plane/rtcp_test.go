package plane

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestReportsBothWays: two sessions send each other audio, one with two
// packets missing from its sequence; each one's reports reach the other:
// the receiver counts the gap, the sender hears of it and of the
// round-trip time through its own sender report echoed back.
func TestReportsBothWays(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	cfg := Config{Readers: 1, ReportInterval: time.Second}
	a, b := listenT(t, cfg), listenT(t, cfg)
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	da.SetClockRate(8000)
	sb.SetClockRate(8000)
	var worst atomic.Int32 // the highest loss fraction da is told of
	da.OnPeerReport(func(f uint8) {
		if int32(f) > worst.Load() {
			worst.Store(int32(f))
		}
	})
	ha := rtp.Header{Version: 2, SSRC: 77}
	hb := rtp.Header{Version: 2, SSRC: 1234}
	sendAudio(t, da, &ha, 10)
	ha.SequenceNumber += 2 // two lost on the way
	ha.Timestamp += 320
	sendAudio(t, da, &ha, 10)
	sendAudio(t, sb, &hb, 20)
	testwait.For(t, 10*time.Second, "the reports and an RTT both ways", func() bool {
		ra, rb := da.Reports(), sb.Reports()
		return ra.PeerReports > 0 && ra.RTT > 0 && rb.PeerReports > 0 && rb.RTT > 0 && rb.Received == 20
	})
	ra, rb := da.Reports(), sb.Reports()
	t.Logf("dialling side %+v; answering side %+v", ra, rb)
	if rb.Lost != 2 || ra.PeerLost != 2 {
		t.Fatalf("the answering side counts %d lost, the dialling side hears of %d; want 2", rb.Lost, ra.PeerLost)
	}
	if w := worst.Load(); w == 0 { // 2*256/22 when one report covers all 22 expected
		t.Fatal("the dialling side was never told of its loss (OnPeerReport)")
	}
	if ra.Lost != 0 || rb.PeerLost != 0 || ra.Received != 20 {
		t.Fatalf("the other way: %d lost, %d heard of, %d received; want 0, 0, 20", ra.Lost, rb.PeerLost, ra.Received)
	}
	if ra.Sent != 20 || ra.SentOctets != 20*160 || ra.RTT > time.Second || rb.RTT > time.Second {
		t.Fatalf("sent %d packets %d octets, RTT %v and %v", ra.Sent, ra.SentOctets, ra.RTT, rb.RTT)
	}
	if bad := a.Stats.BadSRTP.Load() + b.Stats.BadSRTP.Load(); bad != 0 {
		t.Fatalf("%d SRTP/SRTCP packets refused", bad)
	}
	// Ended, each session adds its figures to its plane's counters.
	da.Close()
	sb.Close()
	st := &b.Stats
	// At least the reports the dialling side heard (one can be enough: its
	// RTT needs only that report to answer one of its sender reports).
	if st.Received.Load() != 20 || st.LostIn.Load() != 2 || st.Sent.Load() != 20 || st.LostOut.Load() != 0 || st.ReportsSent.Load() < ra.PeerReports {
		t.Fatalf("answering plane's counters: received %d lost %d, sent %d lost %d, %d reports",
			st.Received.Load(), st.LostIn.Load(), st.Sent.Load(), st.LostOut.Load(), st.ReportsSent.Load())
	}
	if a.Stats.LostOut.Load() != 2 || a.Stats.LostIn.Load() != 0 {
		t.Fatalf("dialling plane's counters: lost out %d, in %d; want 2 and 0", a.Stats.LostOut.Load(), a.Stats.LostIn.Load())
	}
}

// TestReportsToPion: a pion PeerConnection (a browser's stack, its own
// SRTCP) receives the plane's sender report and a receiver report about
// the audio it sends, with the loss it caused.
func TestReportsToPion(t *testing.T) {
	p := listenT(t, Config{ReportInterval: time.Second})
	pc, track, sender := pionPCMU(t)
	var srs, lostHeard atomic.Int64
	lostHeard.Store(-1)
	mine := uint32(sender.GetParameters().Encodings[0].SSRC) // pion's, whatever the packets say
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, x := range pkts {
				var blocks []rtcp.ReceptionReport
				switch x := x.(type) {
				case *rtcp.SenderReport:
					if x.PacketCount > 0 {
						srs.Add(1)
					}
					blocks = x.Reports
				case *rtcp.ReceiverReport:
					blocks = x.Reports
				}
				for _, b := range blocks {
					if b.SSRC == mine {
						lostHeard.Store(int64(b.TotalLost))
					}
				}
			}
		}
	}()
	var got atomic.Int64
	s, ans := answer(t, p, pionOffer(t, pc), "sendrecv", &got)
	s.SetClockRate(8000)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, s)
	payload := make([]byte, 160)
	hdr := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1234}
	seq := uint16(0)
	testwait.ForDetail(t, 10*time.Second, "pion and the plane to get each other's reports", func() bool {
		seq++
		if seq == 5 {
			seq += 3 // three of pion's packets never sent
		}
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 99}, Payload: payload})
		hdr.SequenceNumber++
		hdr.Timestamp += 160
		if _, err := s.WriteRTP(&hdr, payload); err != nil {
			t.Fatal(err)
		}
		return srs.Load() > 0 && lostHeard.Load() >= 0 && s.Reports().PeerReports > 0
	}, func() string {
		return fmt.Sprintf("plane: %+v, %d SR, lost %d", s.Reports(), srs.Load(), lostHeard.Load())
	})
	if n := lostHeard.Load(); n != 3 {
		t.Fatalf("pion heard of %d lost packets, want 3", n)
	}
	if bad := p.Stats.BadSRTP.Load(); bad != 0 {
		t.Fatalf("%d SRTP/SRTCP packets refused (pion's own reports among them?)", bad)
	}
}

// TestReportSourcesBound: SRTCP under ever new sender SSRCs (each a
// replay state in pion/srtp) is refused past the session's bound.
func TestReportSourcesBound(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 1})
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	const sources = 50
	bad := b.Stats.BadSRTP.Load()
	for ssrc := uint32(1); ssrc <= sources; ssrc++ {
		plain, err := (&rtcp.ReceiverReport{SSRC: ssrc}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		da.wmu.Lock()
		enc, err := da.out.EncryptRTCP(nil, plain, nil)
		da.wmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		r := da.path.Load()
		if err := new(rawSend).send(r.sock, enc, &r.sa); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "the sources past the bound refused", func() bool {
		return b.Stats.BadSRTP.Load() == bad+sources-maxSSRCs
	})
	sb.rmu.Lock()
	n := len(sb.rtcpSSRCs)
	sb.rmu.Unlock()
	if n != maxSSRCs {
		t.Fatalf("%d SRTCP sources taken, want %d", n, maxSSRCs)
	}
}
