package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// loadConfig is the load applied identically to every server.
type loadConfig struct {
	publishers  int
	subscribers int // per publisher
	duration    time.Duration
	warmup      time.Duration
	drain       time.Duration
	setupPar    int // handshakes in flight during setup
}

// loadResult is what one load phase measured.
type loadResult struct {
	setup      time.Duration
	window     time.Duration
	serverCPU  time.Duration
	selfCPU    time.Duration
	rssBase    int64
	rssLoad    int64
	conns      int
	sent       uint64 // frames sent by all publishers
	expected   uint64 // frame deliveries owed: sent × subscribers
	received   uint64
	reordered  uint64
	lat        *Histogram
	latSamples uint64
	sw         proc.Switches // the server's, over the window
	load       string        // load average at the window's start and end
}

// ringSlots bounds the frames a publisher has in flight. rtmp.Conn holds at
// most WriteQueue queued plus WriteQueue being written (media only); the
// default WriteQueue is 256, so 1024 slots are never reused while queued.
const ringSlots = 1024

type publisher struct {
	c    *rtmp.Client
	sid  uint32
	name string
	ring []byte
	sent atomic.Uint32
}

type subscriber struct {
	l         *leanConn
	pub       *publisher
	received  uint64 // owned by the subscriber goroutine until it ends
	reordered uint64
	lastSeq   uint32
	seen      bool
}

// runLoad runs P publishers × S subscribers against srv.
func runLoad(ctx context.Context, srv *server, cfg loadConfig, base time.Time, perfOut string) (*loadResult, error) {
	res := &loadResult{lat: new(Histogram), conns: cfg.publishers * (1 + cfg.subscribers)}
	b0, err := readSample(srv.PID())
	if err != nil {
		return nil, err
	}
	res.rssBase = b0.rss
	url := "rtmp://" + srv.addr + "/live"
	setupStart := time.Now()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	pubs := make([]*publisher, cfg.publishers)
	defer func() {
		for _, p := range pubs {
			if p != nil && p.c != nil {
				p.c.Close()
			}
		}
	}()
	for i := range pubs {
		c, err := rtmp.Dial(sctx, url, rtmp.ClientOptions{})
		if err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		p := &publisher{c: c, name: fmt.Sprintf("bench%d", i), ring: make([]byte, ringSlots*frameSize)}
		pubs[i] = p
		if p.sid, err = c.CreateStream(sctx); err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		if err := c.Publish(sctx, p.sid, p.name, "live"); err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
	}

	// Subscribers: setup runs under a semaphore, then each goroutine reads
	// its connection until it is closed.
	subs := make([]*subscriber, cfg.publishers*cfg.subscribers)
	sem := make(chan struct{}, cfg.setupPar)
	var ready, running sync.WaitGroup
	var setupErr atomic.Pointer[error]
	start := make(chan struct{})
	var window struct{ from, to int64 } // send-time bounds of measured frames
	var totalRecv atomic.Uint64
	for i := range subs {
		s := &subscriber{pub: pubs[i%cfg.publishers]}
		subs[i] = s
		ready.Add(1)
		running.Go(func() {
			sem <- struct{}{}
			err := s.setup(sctx, srv.addr)
			<-sem
			if err != nil {
				e := fmt.Errorf("subscriber %d: %w", i, err)
				setupErr.CompareAndSwap(nil, &e)
				ready.Done()
				return
			}
			ready.Done()
			<-start
			s.run(res.lat, window.from, window.to, base, &totalRecv)
		})
	}
	closeSubs := func() {
		for _, s := range subs {
			if s.l != nil {
				s.l.close()
			}
		}
		running.Wait()
	}
	ready.Wait()
	if e := setupErr.Load(); e != nil {
		close(start)
		closeSubs()
		return nil, *e
	}
	res.setup = time.Since(setupStart)

	// Publishers send from their own goroutines, staggered over one frame
	// interval as independent microphones would be.
	goAt := time.Now().Add(50 * time.Millisecond)
	winFrom, winTo := goAt.Add(cfg.warmup), goAt.Add(cfg.duration)
	window.from, window.to = int64(winFrom.Sub(base)), int64(winTo.Sub(base))
	close(start)
	var sending sync.WaitGroup
	for i, p := range pubs {
		offset := time.Duration(i) * frameEvery / time.Duration(len(pubs))
		sending.Go(func() { p.send(goAt.Add(offset), winTo, base) })
	}

	var perfWait func() error
	time.Sleep(time.Until(winFrom))
	s0, err0 := readSample(srv.PID())
	self0, _ := readSample(os.Getpid())
	if perfOut != "" {
		pctx, pcancel := context.WithDeadline(ctx, winTo)
		defer pcancel()
		if perfWait, err = perfRecord(pctx, srv.PID(), perfOut); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	time.Sleep(time.Until(winTo))
	s1, err1 := readSample(srv.PID())
	self1, _ := readSample(os.Getpid())
	sending.Wait()
	if err := errors.Join(err0, err1); err != nil {
		closeSubs()
		return nil, err
	}
	res.window = s1.at.Sub(s0.at)
	res.serverCPU = s1.cpu - s0.cpu
	res.selfCPU = self1.cpu - self0.cpu
	res.rssLoad = s1.rss
	res.sw = s1.sw.Sub(s0.sw)
	res.load = s0.load + "–" + s1.load

	for _, p := range pubs {
		res.sent += uint64(p.sent.Load())
	}
	res.expected = res.sent * uint64(cfg.subscribers)
	drainUntil := time.Now().Add(cfg.drain)
	for totalRecv.Load() < res.expected && time.Now().Before(drainUntil) {
		time.Sleep(10 * time.Millisecond)
	}
	closeSubs()
	for _, s := range subs {
		res.received += s.received
		res.reordered += s.reordered
	}
	res.latSamples = res.lat.Count()
	if perfWait != nil {
		if err := perfWait(); err != nil {
			return nil, fmt.Errorf("perf: %w", err)
		}
	}
	return res, nil
}

func (s *subscriber) setup(ctx context.Context, addr string) error {
	l, err := dialLean(ctx, addr, "live")
	if err != nil {
		return err
	}
	s.l = l
	if err := l.play(s.pub.name); err != nil {
		return err
	}
	l.nc.SetDeadline(time.Time{})
	return nil
}

// run reads frames until the connection is closed, recording the latency
// of frames sent in [from, to) (nanoseconds since base).
func (s *subscriber) run(h *Histogram, from, to int64, base time.Time, total *atomic.Uint64) {
	for {
		m, err := s.l.read()
		if err != nil {
			return
		}
		if m.Type != message.TypeAudio {
			continue
		}
		now := int64(time.Since(base))
		sent, seq, err := decodeFrame(m.Payload)
		if err != nil {
			continue
		}
		if s.seen && seq <= s.lastSeq {
			s.reordered++
			continue
		}
		s.seen, s.lastSeq = true, seq
		s.received++
		total.Add(1)
		if sent >= from && sent < to {
			h.Record(time.Duration(now - sent))
		}
	}
}

// send writes one frame every 16 ms from first until end. Timestamps are
// milliseconds since first; payloads come from a ring so nothing is
// allocated per frame.
func (p *publisher) send(first, end time.Time, base time.Time) {
	time.Sleep(time.Until(first))
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	var seq uint32
	for now := first; now.Before(end); now = <-t.C {
		slot := p.ring[int(seq%ringSlots)*frameSize:][:frameSize]
		encodeFrame(slot, int64(time.Since(base)), seq)
		ts := uint32(now.Sub(first).Milliseconds())
		if err := p.c.WriteAudio(p.sid, ts, slot); err != nil {
			return
		}
		seq++
		p.sent.Store(seq)
	}
}

// idleResult is what the idle-connections phase measured.
type idleResult struct {
	conns   int
	rssBase int64
	rssIdle int64
}

// runIdle opens n connected (handshake + connect) but idle clients.
func runIdle(ctx context.Context, srv *server, n, par int) (*idleResult, error) {
	b0, err := readSample(srv.PID())
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conns := make([]*leanConn, n)
	defer func() {
		for _, l := range conns {
			if l != nil {
				l.close()
			}
		}
	}()
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			conns[i], errs[i] = dialLean(sctx, srv.addr, "live")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let the server settle (GC, lazily touched pages)
	s1, err := readSample(srv.PID())
	if err != nil {
		return nil, err
	}
	return &idleResult{conns: n, rssBase: b0.rss, rssIdle: s1.rss}, nil
}
