package phone

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
)

// talk runs an established call: publish the microphone, play the other
// side, send DTMF, and end on the duration or the other side's bye.
func (p *phone) talk(ctx context.Context, r *Result, acc *amf.Object) error {
	pubName, playName := acc.GetString("publish"), acc.GetString("play")
	p.log.Info("call established", "call", r.Call, "publish", pubName, "play", playName, "mode", acc.GetString("mode"))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pubID, err := p.c.CreateStream(sctx)
	if err != nil {
		return err
	}
	if err := p.c.Publish(sctx, pubID, pubName, "live"); err != nil {
		return fmt.Errorf("phone: publish: %w", err)
	}
	playID, err := p.c.CreateStream(sctx)
	if err != nil {
		return err
	}
	// Ask for our own codec: the hub transcodes when the other side differs.
	if err := p.c.Play(sctx, playID, playName+"?codec="+p.opts.Codec.String()); err != nil {
		return fmt.Errorf("phone: play: %w", err)
	}

	mctx, stop := context.WithCancel(ctx)
	defer stop()
	sendErr := make(chan error, 1)
	go func() { sendErr <- p.send(mctx, pubID) }()
	heard := make(chan []int16, 1)
	go func() { heard <- p.hear(mctx) }()
	defer func() {
		stop()
		r.Heard = <-heard
	}()

	if p.opts.DTMF != "" {
		if _, err := p.call(ctx, "sendDTMF", r.Call, p.opts.DTMF); err != nil {
			return err
		}
	}
	var timeout <-chan time.Time
	if p.opts.Duration > 0 {
		t := time.NewTimer(p.opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	evc := make(chan event, 1)
	errc := make(chan error, 1)
	go func() {
		for {
			e, err := p.next(mctx, r.Call)
			if err != nil {
				errc <- err
				return
			}
			switch e.method {
			case "onDTMF":
				r.Digits += e.obj.GetString("digits")
			case "onBye", "onRejected", "onCancelled":
				evc <- e
				return
			}
		}
	}()
	select {
	case <-timeout:
		if _, err := p.call(ctx, "bye", r.Call); err != nil {
			return err
		}
		select { // our own bye comes back as onBye
		case e := <-evc:
			r.End = e.obj
			return nil
		case err := <-errc:
			return err
		}
	case e := <-evc:
		r.End = e.obj
		if e.method == "onBye" && e.obj.GetString("reason") == "hangup" {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrAbnormalEnd, describe(e.obj))
	case err := <-errc:
		return err
	case err := <-sendErr:
		return fmt.Errorf("phone: sending audio: %w", err)
	}
}

// send encodes the microphone in real time, one codec frame per message.
func (p *phone) send(ctx context.Context, streamID uint32) error {
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
		if err := p.c.WriteAudio(streamID, ts, pkt); err != nil {
			return err
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
			id, _, err := codec.ParseFLVAudio(m.Payload[0])
			if err != nil {
				continue
			}
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
			tr.pcm, _ = d.Decode(tr.pcm, m.Payload[1:])
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
	for _, tr := range ts { println("DEBUGTRACK", tr.first.Sub(ts[0].first).String(), len(tr.pcm)) }
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
