package sipbridge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/speex"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// Pass-through tests. sipp does the SIP signalling as a real peer; the
// media ends are the test's own, so every byte can be compared: an RTMP
// client speaking the phone app's protocol (publishing frames we choose,
// in a codec the headless phone lacks: G.711) and a UDP socket named in
// sipp's SDP as its RTP address. No real SIP peer here speaks Speex
// (Debian's baresip has no speex codec module), which is why sipp offers
// or answers speex/16000 and the RTP is ours.

// passCodec is one shared codec of a pass-through test.
type passCodec struct {
	id      codec.ID
	pt      uint8
	rtpmap  string
	header  byte // FLV sound byte of the Flash side's frames
	clock   int  // RTP clock
	perPkt  int  // codec frames per RTP packet we send (RFC 5574 allows several)
	flashFr func(t *testing.T, n int) [][]byte
}

var (
	passPCMU = passCodec{id: codec.PCMU, pt: 0, rtpmap: "a=rtpmap:0 PCMU/8000", header: 0x82, clock: 8000, perPkt: 1, flashFr: g711Frames}
	passPCMA = passCodec{id: codec.PCMA, pt: 8, rtpmap: "a=rtpmap:8 PCMA/8000", header: 0x72, clock: 8000, perPkt: 1, flashFr: g711Frames}
	passSpx  = passCodec{id: codec.Speex, pt: 97, rtpmap: "a=rtpmap:97 speex/16000", header: 0xB2, clock: 16000, perPkt: 2, flashFr: speexNoise}
)

// g711Frames are n distinct 20 ms G.711 frames (160 bytes; any byte is a
// valid G.711 sample, and the first two number the frame).
func g711Frames(_ *testing.T, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		f := make([]byte, 160)
		f[0], f[1] = byte(i>>8), byte(i)
		for k := 2; k < len(f); k++ {
			f[k] = byte(i*7 + k)
		}
		out[i] = f
	}
	return out
}

// speexNoise is n wideband frames libspeex made of noise (so no two are alike).
func speexNoise(t *testing.T, n int) [][]byte {
	enc, err := speex.NewEncoder(16000, speex.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	pcm := make([]int16, enc.FrameSamples())
	out := make([][]byte, n)
	for i := range out {
		for k := range pcm {
			pcm[k] = int16(rng.IntN(8000) - 4000)
		}
		if out[i], err = enc.Encode(nil, pcm); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sippScenario writes testdata/name with the replacements to a temp file.
func sippScenario(t *testing.T, name string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.NewReplacer(repl...).Replace(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPeerPassThrough: a web user and a SIP peer sharing G.711 or Speex
// exchange frames byte for byte, both ways, with no transcoding (the hub
// decodes nothing), through the jitter buffer: the RTP we send has
// swapped pairs and one lost packet, and the web user gets every other
// frame in order, the loss counted once.
func TestPeerPassThrough(t *testing.T) {
	t.Parallel() // waits on real-time calls: runs beside the other such tests (sipbridge is the longest package)
	testpeer.Require(t, "sipp")
	for _, tc := range []struct {
		name     string
		inbound  bool
		c        passCodec
		formats  string // offered (inbound) or answered (outbound)
		rtpmaps  string
		playName string
	}{
		{"inbound pcmu", true, passPCMU, "0 8", passPCMU.rtpmap + "\n" + passPCMA.rtpmap, "pcmu"},
		{"inbound pcma", true, passPCMA, "8", passPCMA.rtpmap, "pcma"},
		// The caller prefers speex: the answer keeps its order.
		{"inbound speex", true, passSpx, "97 0", passSpx.rtpmap + "\n" + passPCMU.rtpmap, "speex"},
		{"outbound pcmu", false, passPCMU, "0", passPCMU.rtpmap, "pcmu"},
		{"outbound speex", false, passSpx, "97", passSpx.rtpmap, "speex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer rtpConn.Close()
			port := strconv.Itoa(rtpConn.LocalAddr().(*net.UDPAddr).Port)
			const holdMS = "7000"
			var (
				sipp *testpeer.Proc
				e    *env
			)
			edit := func(o *Options) {
				o.JitterBuffer = time.Second    // generous: a loaded machine must not turn a swap into a loss
				o.RTPTimeout = 30 * time.Second // our RTP stops before sipp hangs up
			}
			if tc.inbound {
				scen := sippScenario(t, "uac_rtp.xml", "RTPPORT", port, "OFFER_FORMATS", tc.formats, "OFFER_RTPMAP", tc.rtpmaps, "HOLD_MS", holdMS)
				e = startEnv(t, edit)
				defer func() {
					if sipp != nil {
						sipp.Stop()
					}
				}()
				start := func() {
					sipp = testpeer.SippUAC(t, 40*time.Second, e.bridge.Addr(), "-sf", scen, "-s", "15550001", "-m", "1")
				}
				runPassThrough(t, e, tc.c, rtpConn, "bob", start, tc.playName, func() *testpeer.Proc { return sipp })
			} else {
				scen := sippScenario(t, "uas_rtp.xml", "RTPPORT", port, "ANSWER_FORMATS", tc.formats, "ANSWER_RTPMAP", tc.rtpmaps, "HOLD_MS", holdMS)
				uas, addr := testpeer.SippUAS(t, 40*time.Second, 1, "-sf", scen)
				e = startEnv(t, func(o *Options) { edit(o); o.Trunks = []Trunk{trunk(addr)} })
				runPassThrough(t, e, tc.c, rtpConn, "alice", nil, tc.playName, func() *testpeer.Proc { return uas })
			}
		})
	}
}

// runPassThrough talks as web user through one call (inbound: start makes
// sipp call the user; outbound: the user dials) and checks both ways.
func runPassThrough(t *testing.T, e *env, c passCodec, rtpConn *net.UDPConn, user string, start func(), playCodec string, sipp func() *testpeer.Proc) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	const lostPkt = 30 // the packet the SIP side never sends
	webFrames := c.flashFr(t, 500)
	sipFrames := c.flashFr(t, 500)
	if c.id == codec.Speex {
		sipFrames = speexNoise(t, 501) // unlike webFrames
	}
	fu, err := dialFlash(ctx, e.rtmpURL, user)
	if err != nil {
		t.Fatal(err)
	}
	defer fu.c.Close()

	var acc *amf.Object
	if start != nil {
		testwait.For(t, 20*time.Second, user+" online", func() bool { return e.calls.Presence()[user] == "online" })
		start()
		acc = fu.acceptNext(ctx, t, sipp())
	} else {
		if _, err := fu.c.Call(ctx, "invite", "+15551234567"); err != nil {
			t.Fatalf("invite: %v", err)
		}
		if acc, err = fu.next(ctx, "onAccepted"); err != nil {
			t.Fatalf("%s: %v\nsipp: %s", user, err, sipp().Output())
		}
	}
	if acc == nil {
		t.Fatal("no stream names in the answer")
	}
	pubID, err := fu.media(ctx, acc.GetString("publish"), acc.GetString("play")+"?codec="+playCodec)
	if err != nil {
		t.Fatal(err)
	}
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	go fu.send(sendCtx, pubID, c.header, webFrames)

	// The SIP side: learn the bridge's RTP address from its first packet,
	// then send ours with pairs swapped and one packet lost.
	var pkts [][]byte
	for i := 0; i+c.perPkt <= len(sipFrames) && len(pkts) < 120; i += c.perPkt {
		if c.perPkt == 1 {
			pkts = append(pkts, sipFrames[i])
		} else {
			pkts = append(pkts, joinSpeex(t, sipFrames[i:i+c.perPkt]))
		}
	}
	got := make(chan [][]byte, 1)
	go func() {
		got <- readRTP(rtpConn, c.pt, func(from *net.UDPAddr) { go sendRTP(sendCtx, rtpConn, from, c, pkts, lostPkt) })
	}()

	if _, err := fu.next(ctx, "onBye"); err != nil {
		t.Errorf("%s: no onBye: %v", user, err)
	}
	if err := sipp().Wait(); err != nil {
		t.Errorf("sipp: %v\n%s", err, sipp().Output())
	}
	stopSend()
	rtpConn.SetReadDeadline(time.Now())
	checkSIPGot(t, <-got, webFrames)
	checkWebHeard(t, fu.heardFrames(c.header), sipFrames, c.perPkt, lostPkt)
	if n := e.tc.Stats.TranscodedFrames.Load(); n != 0 {
		t.Errorf("the hub transcoded %d frames; want none", n)
	}
	if n := e.tc.Stats.PassedThroughFrames.Load(); n < 100 {
		t.Errorf("the hub passed %d frames through untouched (the web user's player); want ≥ 100", n)
	}
	if n := e.bridge.Stats.FramesPassedThrough.Load(); n < 100 {
		t.Errorf("the SIP leg passed %d frames through untouched; want ≥ 100", n)
	}
	if n := e.bridge.Stats.RTPLost.Load(); n != 1 {
		t.Errorf("RTP packets lost: %d, want 1 (swaps are not losses)", n)
	}
}

// checkSIPGot: every RTP payload the SIP side got is one of the web
// user's frames, unchanged, in order.
func checkSIPGot(t *testing.T, got, sent [][]byte) {
	t.Helper()
	index := map[string]int{}
	for i, f := range sent {
		index[string(f)] = i
	}
	last, unknown := -1, 0
	for _, p := range got {
		i, ok := index[string(p)]
		switch {
		case !ok:
			unknown++
		case i <= last:
			t.Errorf("SIP side got frame %d after %d", i, last)
		}
		last = max(last, i)
	}
	t.Logf("SIP side got %d packets, %d not the web user's frames", len(got), unknown)
	if len(got) < 50 || unknown > 0 {
		t.Errorf("SIP side got %d packets, %d of them not a web user's frame byte for byte", len(got), unknown)
	}
}

// checkWebHeard: the web user got the SIP side's frames unchanged, one per
// message, in order, without those of the lost packet.
func checkWebHeard(t *testing.T, heard, sent [][]byte, perPkt, lostPkt int) {
	t.Helper()
	index := map[string]int{}
	for i, f := range sent {
		index[string(f)] = i
	}
	last, unknown := -1, 0
	for _, p := range heard {
		i, ok := index[string(p)]
		switch {
		case !ok:
			unknown++
		case i/perPkt == lostPkt:
			t.Errorf("web user heard frame %d of the packet never sent", i)
		case i <= last:
			t.Errorf("web user heard frame %d after %d", i, last)
		}
		last = max(last, i)
	}
	t.Logf("web user heard %d frames, %d unknown", len(heard), unknown)
	if len(heard) < 100 || unknown > 0 {
		t.Errorf("web user heard %d frames, %d of them not a SIP side's frame byte for byte", len(heard), unknown)
	}
}

// readRTP collects the payloads of type pt until the socket's deadline;
// first is told the sender of the first packet.
func readRTP(conn *net.UDPConn, pt uint8, first func(*net.UDPAddr)) [][]byte {
	var out [][]byte
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return out
		}
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != pt {
			continue
		}
		if first != nil {
			first(from)
			first = nil
		}
		out = append(out, append([]byte(nil), p.Payload...))
	}
}

// sendRTP sends pkts to the bridge at their pace, each fifth pair swapped
// and packet lost left out.
func sendRTP(ctx context.Context, conn *net.UDPConn, to *net.UDPAddr, c passCodec, pkts [][]byte, lost int) {
	order := make([]int, 0, len(pkts))
	for i := 0; i < len(pkts); i++ {
		if i%10 == 4 && i+1 < len(pkts) && i != lost && i+1 != lost {
			order = append(order, i+1, i)
			i++
			continue
		}
		if i != lost {
			order = append(order, i)
		}
	}
	step := c.clock / 50 * c.perPkt
	tick := time.NewTicker(time.Duration(c.perPkt) * 20 * time.Millisecond)
	defer tick.Stop()
	for k, i := range order {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.pt, SequenceNumber: uint16(40000 + i),
			Timestamp: uint32(7 + i*step), SSRC: 0x5eed, Marker: k == 0}, Payload: pkts[i]}
		b, _ := p.Marshal()
		if _, err := conn.WriteToUDP(b, to); err != nil {
			return
		}
		if k%2 == 1 { // pairs go back to back so a swap stays a swap
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// flashUser is a web user on the RTMP phone app, driven by hand so the
// test chooses every frame it publishes and sees every frame it gets.
type flashUser struct {
	c      *rtmp.Client
	events chan flashEvent
	mu     sync.Mutex
	heard  [][]byte // audio message payloads
}

type flashEvent struct {
	method string
	obj    *amf.Object
}

// onlineFlash dials user as a Flash phone (closed at the test's end) and
// waits until the call service shows the user online.
func onlineFlash(ctx context.Context, t *testing.T, e *env, user string) *flashUser {
	t.Helper()
	fu, err := dialFlash(ctx, e.rtmpURL, user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fu.c.Close() })
	testwait.For(t, 10*time.Second, user+" online", func() bool { return e.calls.Presence()[user] == "online" })
	return fu
}

func dialFlash(ctx context.Context, url, user string) (*flashUser, error) {
	f := &flashUser{events: make(chan flashEvent, 256)}
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{
		ConnectArgs: []any{user, user},
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if len(cmd.Args) > 0 {
				if o, ok := cmd.Args[0].(*amf.Object); ok {
					select {
					case f.events <- flashEvent{cmd.Name, o}:
					default:
					}
				}
			}
		},
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio && len(m.Payload) > 1 {
				f.mu.Lock()
				f.heard = append(f.heard, append([]byte(nil), m.Payload...))
				f.mu.Unlock()
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rtmp %s as %s: %w", url, user, err)
	}
	f.c = c
	return f, nil
}

// next waits for the event method, skipping others.
func (f *flashUser) next(ctx context.Context, method string) (*amf.Object, error) {
	for {
		select {
		case e := <-f.events:
			if e.method == method {
				return e.obj, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

// acceptNext waits for the next incoming call, accepts it and returns the
// answer's stream names (nil when it had none); peer is whose output the
// failure shows (the SIP side).
func (f *flashUser) acceptNext(ctx context.Context, t *testing.T, peer interface{ Output() string }) *amf.Object {
	t.Helper()
	inc, err := f.next(ctx, "onIncomingCall")
	if err != nil {
		t.Fatalf("%v\nSIP side: %s", err, peer.Output())
	}
	res, err := f.c.Call(ctx, "accept", inc.GetString("call"))
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	acc, _ := res.Args[0].(*amf.Object)
	return acc
}

// media publishes pub and plays play; it returns the publishing stream.
func (f *flashUser) media(ctx context.Context, pub, play string) (uint32, error) {
	pubID, err := f.c.CreateStream(ctx)
	if err != nil {
		return 0, err
	}
	if err := f.c.Publish(ctx, pubID, pub, "live"); err != nil {
		return 0, fmt.Errorf("publish: %w", err)
	}
	playID, err := f.c.CreateStream(ctx)
	if err != nil {
		return 0, err
	}
	if err := f.c.Play(ctx, playID, play); err != nil {
		return 0, fmt.Errorf("play: %w", err)
	}
	return pubID, nil
}

// send publishes frames (FLV sound byte header first) one per 20 ms.
func (f *flashUser) send(ctx context.Context, id uint32, header byte, frames [][]byte) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, fr := range frames {
		if err := f.c.WriteAudio(id, uint32(i*20), append([]byte{header}, fr...)); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// heardFrames are the codec packets of the audio messages with header.
func (f *flashUser) heardFrames(header byte) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]byte
	for _, p := range f.heard {
		if p[0] == header {
			out = append(out, p[1:])
		}
	}
	return out
}
