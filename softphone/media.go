package softphone

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/rtmp"
)

// talk runs an established call: publish the microphone, play the other
// side (directly in a p2p call, else through the server), send DTMF, and
// end on the duration or the other side's bye.
func (p *phone) talk(ctx context.Context, r *Result, acc *amf.Object) error {
	m := &callMedia{p: p, r: r, ctx: ctx, pub: acc.GetString("publish"), play: acc.GetString("play"), peer: acc.GetString("peerId"),
		evc: make(chan event, 1), mediac: make(chan struct{}, 1), errc: make(chan error, 1),
		directUp: make(chan *rtmp.Client, 1), directErr: make(chan error, 1)}
	mode := acc.GetString("mode")
	r.Established = true
	p.log.Info("call established", "call", r.Call, "publish", m.pub, "play", m.play, "mode", mode)

	mctx, stop := context.WithCancel(ctx)
	defer stop()
	m.mctx = mctx
	sendErr := make(chan error, 1)
	go func() { sendErr <- p.send(mctx, 0) }()
	heard := make(chan []int16, 1)
	go func() { heard <- p.hear(mctx) }()
	defer func() {
		stop()
		r.Heard = <-heard
	}()
	defer m.closeDirect()
	// Events first: a call can end while its media is being set up.
	go m.watchEvents()
	if mode == MediaP2P && p.direct != nil && m.peer != "" {
		m.startDirect()
	} else if err := m.relay(); err != nil {
		return endedOr(r, m.evc, err)
	}
	if p.opts.DTMF != "" {
		if _, err := p.call(ctx, "sendDTMF", r.Call, p.opts.DTMF); err != nil {
			return err
		}
	}
	return m.run(sendErr)
}

// callMedia is the media side of one established call.
type callMedia struct {
	p         *phone
	r         *Result
	ctx, mctx context.Context // the call's; the media's, ended with talk
	pub, play string
	peer      string       // the far peer's id in a p2p call
	direct    *rtmp.Client // the far peer's session while media is p2p
	evc       chan event   // the event that ends the call
	mediac    chan struct{}
	errc      chan error
	directUp  chan *rtmp.Client
	directErr chan error
}

func (m *callMedia) closeDirect() {
	if m.direct != nil {
		m.direct.Close()
		m.direct = nil
	}
}

// relay moves the media through the server (once).
func (m *callMedia) relay() error {
	m.closeDirect()
	if m.r.Media == MediaRelay {
		return nil
	}
	m.r.Media = MediaRelay
	return m.p.relay(m.ctx, m.pub, m.play)
}

// maxHolds bounds the holds a Result keeps (the server sends them).
const maxHolds = 32

// watchEvents collects DTMF and holds, tells of the server's switch to relay and
// hands over the event that ends the call.
func (m *callMedia) watchEvents() {
	for {
		e, err := m.p.next(m.mctx, m.r.Call)
		if err != nil {
			m.errc <- err
			return
		}
		switch e.method {
		case "onDTMF":
			m.r.Digits += e.obj.GetString("digits")
		case "onHold", "onUnhold":
			if len(m.r.Holds) < maxHolds {
				h := "unhold"
				if e.method == "onHold" {
					h = "hold " + e.obj.GetString("reason")
				}
				m.r.Holds = append(m.r.Holds, h)
			}
		case "onMedia":
			if e.obj.GetString("mode") == MediaRelay {
				select {
				case m.mediac <- struct{}{}:
				default:
				}
			}
		case "onBye", "onRejected", "onCancelled":
			m.evc <- e
			return
		}
	}
}

// startDirect plays the far peer directly, within the p2p timeout.
func (m *callMedia) startDirect() {
	m.r.Media = MediaP2P
	m.p.direct.allow(m.pub)
	timeout := m.p.opts.P2PTimeout
	if timeout <= 0 {
		timeout = DefaultP2PTimeout
	}
	go func() {
		dctx, cancel := context.WithTimeout(m.mctx, timeout)
		defer cancel()
		cl, err := m.p.playDirect(dctx, m.peer, m.play)
		if err != nil {
			m.directErr <- err
			return
		}
		m.directUp <- cl
	}()
}

// run waits for the call's end: the duration (our bye), the other side's
// end, or a failure; meanwhile it falls back to relay when p2p fails.
func (m *callMedia) run(sendErr <-chan error) error {
	p, r := m.p, m.r
	var timeout <-chan time.Time
	if p.opts.Duration > 0 {
		t := time.NewTimer(p.opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case cl := <-m.directUp:
			if r.Media == MediaP2P {
				m.direct = cl
				p.log.Info("media p2p", "call", r.Call, "peer", m.peer[:16])
			} else {
				cl.Close()
			}
		case err := <-m.directErr:
			if r.Media == MediaP2P {
				p.log.Info("p2p failed: asking for relay", "call", r.Call, "err", err)
				if _, err := p.call(m.ctx, "p2pFailed", r.Call); err != nil {
					return err
				}
				if err := m.relay(); err != nil {
					return err
				}
			}
		case <-m.mediac:
			p.log.Info("server switched the call to relay", "call", r.Call)
			if err := m.relay(); err != nil {
				return err
			}
		case <-timeout:
			if _, err := p.call(m.ctx, "bye", r.Call); err != nil {
				return err
			}
			select { // our own bye comes back as onBye
			case e := <-m.evc:
				r.End = e.obj
				return nil
			case err := <-m.errc:
				return err
			}
		case e := <-m.evc:
			return endResult(r, e)
		case err := <-m.errc:
			return err
		case err := <-sendErr:
			return fmt.Errorf("phone: sending audio: %w", err)
		}
	}
}

// endResult records how the call ended: a hang-up is a normal end.
func endResult(r *Result, e event) error {
	r.End = e.obj
	if e.method == "onBye" && e.obj.GetString("reason") == "hangup" {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrAbnormalEnd, describe(e.obj))
}

// endedOr explains a failed media set-up: when the call ended meanwhile
// (the other side hung up at once, so its stream names were revoked), that
// end is the result, not the set-up error.
func endedOr(r *Result, evc <-chan event, err error) error {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case e := <-evc:
		return endResult(r, e)
	case <-t.C:
		return err
	}
}

// relay publishes the microphone to the server and plays the other side
// from it.
func (p *phone) relay(ctx context.Context, pubName, playName string) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pubID, err := p.c.CreateStream(sctx)
	if err != nil {
		return err
	}
	if err := p.c.Publish(sctx, pubID, pubName, "live"); err != nil {
		return fmt.Errorf("phone: publish: %w", err)
	}
	p.relayPub.Store(pubID)
	playID, err := p.c.CreateStream(sctx)
	if err != nil {
		return err
	}
	// Ask for our own codec: the hub transcodes when the other side differs.
	if err := p.c.Play(sctx, playID, playName+"?codec="+p.opts.Codec.String()); err != nil {
		return fmt.Errorf("phone: play: %w", err)
	}
	return nil
}

// send encodes the microphone in real time, one codec frame per message.
// The frames go to the server on streamID, or (0) once relay publishing
// started, and to the peers that play us directly.
func (p *phone) send(ctx context.Context, streamID uint32) error {
	if streamID != 0 {
		p.relayPub.Store(streamID)
	}
	enc, err := codecs.NewEncoder(p.opts.Codec, SampleRate)
	if err != nil {
		return err
	}
	if c, ok := enc.(io.Closer); ok {
		defer c.Close()
	}
	hdr, err := codec.FLVAudioHeader(p.opts.Codec, SampleRate)
	if err != nil {
		return err
	}
	n := enc.FrameSamples()
	frame := make([]int16, n)
	period := time.Duration(n) * time.Second / SampleRate
	tick := time.NewTicker(period)
	defer tick.Stop()
	start := time.Now()
	pos := 0
	for i := 0; ; i++ {
		for j := range frame {
			frame[j] = 0
			if len(p.opts.Mic) > 0 {
				frame[j] = p.opts.Mic[pos%len(p.opts.Mic)]
				pos++
			}
		}
		pkt, err := enc.Encode([]byte{hdr}, frame)
		if err != nil {
			return err
		}
		ts := uint32(time.Duration(i) * period / time.Millisecond)
		if p.opts.OnSend != nil {
			p.opts.OnSend(ts, time.Now())
		}
		if id := p.relayPub.Load(); id != 0 {
			if err := p.c.WriteAudio(id, ts, pkt); err != nil {
				return err
			}
		}
		if p.direct != nil {
			p.direct.write(ts, pkt)
		}
		// Pace by the wall clock: a late tick sends the frames it owes at once.
		next := start.Add(time.Duration(i+1) * period)
		for time.Now().Before(next) {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
}

// hear decodes what arrives until ctx ends and returns it at 16 kHz. Each
// message stream is decoded on its own; when several play at once (a relay
// conference) they are summed, each placed by the arrival of its first
// audio, as a listener would hear them.
func (p *phone) hear(ctx context.Context) []int16 {
	tracks := map[uint32]*track{}
	var order []*track
	bad := map[codec.ID]bool{}
	defer func() {
		for _, tr := range order {
			for _, d := range tr.decs {
				if c, ok := d.(io.Closer); ok {
					c.Close()
				}
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return mixTracks(order)
		case m := <-p.audio:
			a, pkt, err := codec.SplitFLVAudio(m.Payload)
			if err != nil || a.Config {
				continue
			}
			id := a.ID
			tr := tracks[m.StreamID]
			if tr == nil {
				tr = &track{first: time.Now(), decs: map[codec.ID]codec.Decoder{}}
				tracks[m.StreamID] = tr
				order = append(order, tr)
			}
			d := tr.decs[id]
			if d == nil {
				if bad[id] {
					continue
				}
				if d, err = codecs.NewDecoder(id, SampleRate); err != nil {
					p.log.Warn("cannot decode what the other side sends", "codec", id, "err", err)
					bad[id] = true
					continue
				}
				tr.decs[id] = d
			}
			tr.pcm, _ = d.Decode(tr.pcm, pkt)
		}
	}
}

// track is the audio of one played stream.
type track struct {
	first time.Time
	decs  map[codec.ID]codec.Decoder
	pcm   []int16
}

// mixTracks returns one track as it is, several summed (with clipping),
// each starting at its first arrival after the earliest.
func mixTracks(ts []*track) []int16 {
	if len(ts) == 0 {
		return nil
	}
	if len(ts) == 1 {
		return ts[0].pcm
	}
	t0 := ts[0].first
	offs := make([]int, len(ts))
	n := 0
	for i, tr := range ts {
		offs[i] = int(tr.first.Sub(t0) * SampleRate / time.Second)
		n = max(n, offs[i]+len(tr.pcm))
	}
	sum := make([]int32, n)
	for i, tr := range ts {
		for k, v := range tr.pcm {
			sum[offs[i]+k] += int32(v)
		}
	}
	out := make([]int16, n)
	for i, v := range sum {
		out[i] = int16(min(max(v, -32768), 32767))
	}
	return out
}
