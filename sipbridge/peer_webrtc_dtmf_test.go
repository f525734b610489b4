//go:build cgo

package sipbridge

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	pionwebrtc "github.com/pion/webrtc/v4"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// rawTrack is a pion publisher that writes whole RTP packets of any
// negotiated payload type (pion's own tracks rewrite it), as a browser
// sending RFC 4733 events on its audio SSRC does.
type rawTrack struct {
	c    pionwebrtc.RTPCodecCapability
	mu   sync.Mutex
	w    pionwebrtc.TrackLocalWriter
	ssrc uint32
	pts  map[string]uint8 // negotiated payload types by MIME type, lower case
	seq  uint16
}

func (r *rawTrack) Bind(ctx pionwebrtc.TrackLocalContext) (pionwebrtc.RTPCodecParameters, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pts = map[string]uint8{}
	var found pionwebrtc.RTPCodecParameters
	for _, p := range ctx.CodecParameters() {
		r.pts[strings.ToLower(p.MimeType)] = uint8(p.PayloadType)
		if strings.EqualFold(p.MimeType, r.c.MimeType) {
			found = p
		}
	}
	r.w, r.ssrc = ctx.WriteStream(), uint32(ctx.SSRC())
	return found, nil
}
func (r *rawTrack) Unbind(pionwebrtc.TrackLocalContext) error { return nil }
func (r *rawTrack) ID() string                                { return "a" }
func (r *rawTrack) RID() string                               { return "" }
func (r *rawTrack) StreamID() string                          { return "s" }
func (r *rawTrack) Kind() pionwebrtc.RTPCodecType             { return pionwebrtc.RTPCodecTypeAudio }

// send writes one packet of MIME type mime (false if not negotiated yet).
func (r *rawTrack) send(mime string, ts uint32, marker bool, payload []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	pt, ok := r.pts[mime]
	if r.w == nil || !ok {
		return false
	}
	r.seq++
	h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: r.seq, Timestamp: ts, SSRC: r.ssrc, Marker: marker}
	_, _ = r.w.WriteRTP(&h, payload)
	return true
}

// TestPeerWHIPDigitReachesBaresip: a WebRTC client without the page (pion,
// PCMU) answers baresip's call and sends digit 5 only in-band, as RFC 4733
// events on its WHIP session, never through the call API: the SIP leg
// sends it to baresip as RFC 4733, once.
func TestPeerWHIPDigitReachesBaresip(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	e := startEnv(t, nil)
	_, base := startWebRTC(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	fu := onlineFlash(ctx, t, e, "bob")
	micPath := filepath.Join(t.TempDir(), "carol.wav")
	if err := audiotest.WriteWAV(micPath, audiotest.Square(8000, 12*8000, carolHz, 0.3), 8000); err != nil {
		t.Fatal(err)
	}
	b := testpeer.StartBaresip(t, 30*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + e.bridge.Addr() + ">;auth_pass=carol;regint=0;audio_codecs=PCMU",
		SourceWAV: micPath, Exec: "/dial sip:bob@" + e.bridge.Addr(), Seconds: 15,
	})
	acc := fu.acceptNext(ctx, t, b)
	if acc == nil {
		t.Fatal("no stream names in the answer")
	}
	m := &pionwebrtc.MediaEngine{}
	ev := pionwebrtc.RTPCodecParameters{PayloadType: 101, RTPCodecCapability: pionwebrtc.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}}
	for _, p := range []pionwebrtc.RTPCodecParameters{pionPCMU.params, ev} {
		if err := m.RegisterCodec(p, pionwebrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := pionAPIWith(t, m).NewPeerConnection(pionwebrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tr := &rawTrack{c: pionPCMU.params.RTPCodecCapability}
	if _, err := pc.AddTransceiverFromTrack(tr, pionwebrtc.RTPTransceiverInit{Direction: pionwebrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	pionNegotiate(t, pc, base+"/phone/"+acc.GetString("publish")+"/whip", "bob")
	mic := pcmuFrames(t, audiotest.Square(8000, 6*8000, bobHz, 0.3))
	go func() { // 20 ms of audio a tick; digit 5 after a second
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i, f := range mic {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ts := uint32(i * 160)
			tr.send("audio/pcmu", ts, i == 0, f)
			if i == 50 {
				for k := range 8 { // RFC 4733: five updates, the end three times
					end := k >= 5
					dur := uint16(160 * min(k+1, 5))
					p := []byte{5, 10, byte(dur >> 8), byte(dur)}
					if end {
						p[1] |= 0x80
					}
					tr.send("audio/telephone-event", ts, k == 0, p)
				}
			}
		}
	}()
	testwait.For(t, 10*time.Second, "baresip to get the WHIP client's digit", func() bool {
		return strings.Contains(b.Output(), "received event: '5' (end=1)")
	})
	testwait.For(t, 5*time.Second, "the call's audio to go on after the digit", func() bool { return e.bridge.Stats.RTPOut.Load() > 150 })
	b.Stop()
	if n := strings.Count(b.Output(), "received event: '5' (end=1)"); n != 1 {
		t.Errorf("baresip got digit 5 %d times, want once\n%s", n, b.Output())
	}
}
