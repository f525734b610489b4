package main

import (
	"context"
	"fmt"
	"log"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/bench/internal/whipload"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// runState is one run: its calls and counters.
type runState struct {
	client                 whipload.Client
	serverLog              string
	mode                   string
	browserCodec, sipCodec string
	passThrough            bool
	frames                 int
	opusTone, pcmuTone     [][]byte // 1 s each, pre-encoded (transcoded mode)
	calls                  []*benchCall
	failed                 atomic.Int64
}

// benchCall is one browser ↔ SIP call.
type benchCall struct {
	sip      *sipCall
	pub      whipload.Publisher
	play     whipload.Peer
	up, down *leg // browser → SIP, SIP → browser
	rtp      rtp.Packet
}

func (c *benchCall) ok() bool {
	return c.sip != nil && whipload.Up(c.pub, c.play)
}

// connect places every call (parallel at a time): the SIP phone dials
// user i's number, user i's page answers, then its WHEP player and WHIP
// publisher connect; then it waits for ICE.
func (r *runState) connect(ctx context.Context, phones *sipPhones, base string, n, parallel int) {
	r.calls = make([]*benchCall, n)
	browserStep, sipStep := uint32(whipload.Caps[r.browserCodec].ClockRate/50), uint32(sdpCodecs[r.sipCodec].clock/50)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range r.calls {
		c := &benchCall{up: newLeg(r.frames, sipStep), down: newLeg(r.frames, browserStep)}
		r.calls[i] = c
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if err := r.place(cctx, phones, c, i, base); err != nil {
				r.failed.Add(1)
				log.Printf("call %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for !r.allConnected() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // a load client polling its own peers, not a test
	}
}

func (r *runState) place(ctx context.Context, phones *sipPhones, c *benchCall, i int, base string) error {
	sc, err := phones.call(ctx, strconv.Itoa(firstNumber+i), sdpCodecs[r.sipCodec])
	if err != nil {
		return err
	}
	c.sip = sc
	c.rtp.Header = rtp.Header{Version: 2, PayloadType: sdpCodecs[r.sipCodec].pt, SSRC: uint32(0x5eed0000 + i)}
	go r.readSIP(c)
	user := base + userName(i)
	if err := r.startPlayer(ctx, c, user+"/whep"); err != nil {
		return fmt.Errorf("whep: %w", err)
	}
	if err := r.startPublisher(ctx, c, user+"/whip"); err != nil {
		return fmt.Errorf("whip: %w", err)
	}
	return nil
}

func (r *runState) allConnected() bool {
	for _, c := range r.calls {
		if c.sip != nil && !whipload.Up(c.pub, c.play) {
			return false
		}
	}
	return true
}

// readSIP books the RTP the SIP phone gets until its socket closes.
func (r *runState) readSIP(c *benchCall) {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, err := c.sip.conn.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != c.rtp.PayloadType {
			continue
		}
		c.up.receive(r.passThrough, r.sipCodec, p.Timestamp, p.Payload, now)
	}
}

// encodeTones pre-encodes the tones the transcoded mode sends (the
// client must not spend its cores encoding).
func (r *runState) encodeTones() error {
	enc, err := opus.NewEncoder(48000, opus.EncoderOptions{})
	if err != nil {
		return err
	}
	defer enc.Close()
	pcm := audiotest.Sine(48000, 48000, 440, 0.3)
	for off := 0; off+960 <= len(pcm); off += 960 {
		pkt, err := enc.Encode(nil, pcm[off:off+960])
		if err != nil {
			return err
		}
		r.opusTone = append(r.opusTone, pkt)
	}
	u, err := g711.NewEncoder(g711.ULaw, 160)
	if err != nil {
		return err
	}
	pcm = audiotest.Sine(8000, 8000, 700, 0.3)
	for off := 0; off+160 <= len(pcm); off += 160 {
		pkt, err := u.Encode(nil, pcm[off:off+160])
		if err != nil {
			return err
		}
		r.pcmuTone = append(r.pcmuTone, pkt)
	}
	return nil
}

// send writes one frame each way of every call every 20 ms, the calls
// shared among workers so a slow write does not hold the others.
func (r *runState) send(workers int) {
	live := r.calls[:0]
	for _, c := range r.calls {
		if c.ok() {
			live = append(live, c)
		} else {
			if c.sip != nil {
				r.failed.Add(1) // ICE did not connect
			}
			r.closeCall(c)
		}
	}
	r.calls = live
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range r.frames {
				time.Sleep(time.Until(start.Add(time.Duration(n) * 20 * time.Millisecond)))
				for k := w; k < len(r.calls); k += workers {
					r.write(r.calls[k], uint32(n))
				}
			}
		}()
	}
	wg.Wait()
}

// write sends frame n of c both ways.
func (r *runState) write(c *benchCall, n uint32) {
	now := time.Now()
	var fromBrowser, fromSIP []byte
	if r.passThrough {
		fromBrowser, fromSIP = whipload.Stamp(r.browserCodec, n, now), whipload.Stamp(r.sipCodec, n, now)
	} else {
		fromBrowser, fromSIP = r.opusTone[int(n)%len(r.opusTone)], r.pcmuTone[int(n)%len(r.pcmuTone)]
	}
	c.up.sendNs[n].Store(now.UnixNano())
	_ = c.pub.WriteFrame(fromBrowser)
	c.down.sendNs[n].Store(now.UnixNano())
	c.rtp.SequenceNumber++
	c.rtp.Timestamp = n * uint32(sdpCodecs[r.sipCodec].clock/50)
	c.rtp.Marker = n == 0
	c.rtp.Payload = fromSIP
	if b, err := c.rtp.Marshal(); err == nil {
		_, _ = c.sip.conn.WriteToUDP(b, c.sip.to)
	}
}

func (r *runState) closeCall(c *benchCall) {
	if c.sip != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.sip.hangup(ctx)
		cancel()
	}
	if c.pub != nil {
		c.pub.Close()
	}
	if c.play != nil {
		c.play.Close()
	}
}

// close hangs every call up (parallel: BYE transactions wait for their 200).
func (r *runState) close() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, c := range r.calls {
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer func() { <-sem; wg.Done() }(); r.closeCall(c) }()
	}
	wg.Wait()
}
