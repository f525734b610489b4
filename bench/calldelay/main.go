// Command calldelay measures the delay flashvox adds between one phone's
// microphone and the other's speaker, and shows that it does not grow: two
// phone-app clients call each other through a flashvox process, alice sends
// a 20 ms Speex-sized frame every 20 ms carrying its send time, and bob,
// the receiver, stops reading for -stall every -stall-every (a stalled
// player). After each stall the delay must come back to its baseline: old
// audio is dropped or flushed, never queued into lasting latency.
//
//	go build -o bin/calldelay ./bench/calldelay && bin/calldelay -flashvox bin/flashvox -duration 10m
//
// Traffic stays on 127.0.0.1 and the run ends by itself.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

type options struct {
	flashvox   string
	duration   time.Duration
	stall      time.Duration
	stallEvery time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary to start")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "length of the call")
	flag.DurationVar(&o.stall, "stall", 2*time.Second, "how long the receiver stops reading")
	flag.DurationVar(&o.stallEvery, "stall-every", 15*time.Second, "time between stalls")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	rtmpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	httpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.flashvox)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN="+rtmpAddr, "FLASHVOX_HTTP_LISTEN="+httpAddr,
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_LEVEL="+logLevel())
	cmd.Stderr = os.Stderr
	srv, err := proc.Start(cmd, "flashvox", rtmpAddr, syscall.SIGTERM)
	if err != nil {
		return err
	}
	defer srv.Stop()
	url := "rtmp://" + rtmpAddr + "/phone"

	rec := &recorder{}
	bob, bobCalls, err := dialPhone(ctx, url, "bob", rec.onMessage)
	if err != nil {
		return err
	}
	defer bob.Close()
	alice, _, err := dialPhone(ctx, url, "alice", nil)
	if err != nil {
		return err
	}
	defer alice.Close()

	if _, err := alice.Call(ctx, "invite", "bob"); err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	var callID string
	select {
	case ev := <-bobCalls:
		callID = ev.GetString("call")
	case <-time.After(5 * time.Second):
		return errors.New("bob was not rung")
	}
	res, err := bob.Call(ctx, "accept", callID)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	acc, _ := res.Args[0].(*amf.Object)
	if acc == nil {
		return errors.New("accept: no stream names")
	}
	// bob's play name is alice's microphone: alice publishes it, bob plays
	// it in the same codec.
	bobPlay := acc.GetString("play")
	aid, err := alice.CreateStream(ctx)
	if err != nil {
		return err
	}
	if err := alice.Publish(ctx, aid, bobPlay, "live"); err != nil {
		return fmt.Errorf("alice publish: %w", err)
	}
	bid, err := bob.CreateStream(ctx)
	if err != nil {
		return err
	}
	if err := bob.Play(ctx, bid, bobPlay+"?codec=speex"); err != nil {
		return fmt.Errorf("bob play: %w", err)
	}

	start := time.Now()
	rec.stallAt(start, o.stall, o.stallEvery)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 71)
	payload[0] = 0xB2 // Speex, as Flash writes it
	for n := uint32(0); time.Since(start) < o.duration; n++ {
		<-tick.C
		p := slices.Clone(payload)
		binary.BigEndian.PutUint64(p[1:], uint64(time.Now().UnixNano()))
		if err := alice.WriteAudio(aid, n*20, p); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	time.Sleep(500 * time.Millisecond) // let the last frames arrive
	rec.report(start, o)
	return nil
}

// dialPhone connects to the phone app; incoming-call events arrive on the channel.
func dialPhone(ctx context.Context, url, user string, onMessage func(*message.Message)) (*rtmp.Client, <-chan *amf.Object, error) {
	calls := make(chan *amf.Object, 4)
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{
		ConnectArgs: []any{user, user},
		OnMessage:   onMessage,
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if cmd.Name != "onIncomingCall" {
				return
			}
			for _, a := range cmd.Args {
				if o, ok := a.(*amf.Object); ok {
					select {
					case calls <- o:
					default:
					}
				}
			}
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: connect: %w", user, err)
	}
	return c, calls, nil
}

// recorder keeps (arrival time, delay) of each frame bob receives, and
// stalls bob's reading on schedule (blocking the client's dispatch goroutine
// stops reads, so the server and the kernel see a stalled player).
type recorder struct {
	mu     sync.Mutex
	points []point
	stalls []time.Time
	next   time.Time
	stall  time.Duration
	every  time.Duration
}

type point struct {
	at    time.Time
	delay time.Duration
}

func (r *recorder) stallAt(start time.Time, stall, every time.Duration) {
	r.mu.Lock()
	r.next, r.stall, r.every = start.Add(every), stall, every
	r.mu.Unlock()
}

func (r *recorder) onMessage(m *message.Message) {
	if m.Type != message.TypeAudio || len(m.Payload) < 9 {
		return
	}
	now := time.Now()
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(m.Payload[1:])))
	r.mu.Lock()
	r.points = append(r.points, point{at: now, delay: now.Sub(sent)})
	stall := !r.next.IsZero() && now.After(r.next)
	if stall {
		r.stalls = append(r.stalls, now)
		r.next = now.Add(r.every)
	}
	d := r.stall
	r.mu.Unlock()
	if stall {
		time.Sleep(d)
	}
}

func (r *recorder) report(start time.Time, o options) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var base []time.Duration
	for _, p := range r.points {
		if !near(p.at, r.stalls, o.stall+time.Second) {
			base = append(base, p.delay)
		}
	}
	slices.Sort(base)
	pct := func(v []time.Duration, q float64) time.Duration {
		if len(v) == 0 {
			return 0
		}
		return v[min(len(v)-1, int(q*float64(len(v))))]
	}
	p50, p99 := pct(base, 0.50), pct(base, 0.99)
	fmt.Printf("call of %s, %d frames received, %d stalls of %s\n", o.duration, len(r.points), len(r.stalls), o.stall)
	fmt.Printf("delay away from stalls: p50 %.2f ms, p99 %.2f ms\n", ms(p50), ms(p99))
	fmt.Println("| stall | worst delay after it | back under baseline p99 + 5 ms after |")
	fmt.Println("|---:|---:|---:|")
	for i, s := range r.stalls {
		var worst time.Duration
		back := time.Duration(-1)
		for _, p := range r.points {
			if p.at.Before(s) || p.at.After(s.Add(o.stall+5*time.Second)) {
				continue
			}
			worst = max(worst, p.delay)
			if back < 0 && p.at.After(s.Add(o.stall)) && p.delay < p99+5*time.Millisecond {
				back = p.at.Sub(s.Add(o.stall))
			}
		}
		backText := "never (within 5 s)"
		if back >= 0 {
			backText = fmt.Sprintf("%.0f ms", ms(back))
		}
		fmt.Printf("| %d at %.0f s | %.0f ms | %s |\n", i+1, s.Sub(start).Seconds(), ms(worst), backText)
	}
}

func near(t time.Time, stalls []time.Time, window time.Duration) bool {
	for _, s := range stalls {
		if !t.Before(s) && t.Before(s.Add(window)) {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// logLevel is the server's log level: FLASHVOX_LOG_LEVEL if set, else warn.
func logLevel() string {
	if l := os.Getenv("FLASHVOX_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}
