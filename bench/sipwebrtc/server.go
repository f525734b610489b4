package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/webrtc"
)

// The server child (-serve): flashvox's hub, transcoders, call service,
// SIP bridge and WebRTC edge in one process, wired as cmd/flashvox wires
// them, with N web users u0..uN-1 whose "pages" answer every call at
// once. Inbound number firstNumber+i rings user i; the user's WHIP and
// WHEP URLs are /phone/uI/whip and /phone/uI/whep, which reach the
// streams of the user's answered call (the call service's StreamKey,
// as a page's token-authorized requests do).

const firstNumber = 20000000

func userName(i int) string { return "u" + strconv.Itoa(i) }

// answerer answers each user's incoming calls and remembers the stream
// names the call service issued.
type answerer struct {
	calls *call.Service
	mu    sync.Mutex
	names map[string][2]string // user → publish, play
}

func (a *answerer) follow(ctx context.Context, user string, d *call.Device, l *events.Log, head uint64, log *slog.Logger) {
	_ = l.Follow(ctx, head, log, func(e events.Entry) error {
		ev, ok := e.Event.(call.Event)
		if !ok || ev.Type != call.EvIncoming {
			return nil
		}
		acc, err := a.calls.Accept(d, ev.Call, "")
		if err != nil {
			log.Warn("accept", "user", user, "err", err)
			return nil
		}
		a.mu.Lock()
		a.names[user] = [2]string{acc.Publish, acc.Play}
		a.mu.Unlock()
		return nil
	}, func(uint64) {})
}

// Authorize is the edge's access: user NAME's call streams.
func (a *answerer) Authorize(r webrtc.Request) (string, error) {
	a.mu.Lock()
	n, ok := a.names[r.Name]
	a.mu.Unlock()
	if r.App != "phone" || !ok {
		return "", webrtc.ErrForbidden
	}
	stream := n[1]
	if r.Publish {
		stream = n[0]
	}
	key, err := a.calls.StreamKey(r.Name, stream, r.Publish)
	if err != nil {
		return "", fmt.Errorf("%w: %v", webrtc.ErrForbidden, err)
	}
	return key, nil
}

// serve runs the server child until SIGTERM.
func serve(httpAddr, sipAddr string, users, liveQ int, engine string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if path := os.Getenv("SIPWEBRTC_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	hub := media.NewHub(256, log)
	tc := transcode.New(hub, log)
	tc.InputQueue = liveQ
	names := make([]string, users)
	inbound := make([]sipbridge.Inbound, users)
	for i := range names {
		names[i] = userName(i)
		inbound[i] = sipbridge.Inbound{Number: strconv.Itoa(firstNumber + i), Target: names[i]}
	}
	a := &answerer{names: map[string][2]string{}}
	b, err := sipbridge.Start(sipbridge.Options{
		Listen: sipAddr, RTPTimeout: 5 * time.Minute, Inbound: inbound,
		Trunks: []sipbridge.Trunk{{Name: "load", Address: "127.0.0.1:9", Transport: "udp",
			InboundFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		Hub: hub, Transcoder: tc, Logger: log,
		Peers: func(gw *sipbridge.Bridge) sipbridge.Peers {
			a.calls = call.NewService(call.Options{RingTimeout: time.Minute, Gateway: gw, Logger: log}, names...)
			return sipbridge.Peers{Calls: a.calls}
		},
	})
	if err != nil {
		return err
	}
	defer b.Close()
	defer a.calls.Close()
	for _, u := range names {
		// Attached before the server is ready: a call to a user not yet
		// attached is refused (480), which a run then counted as failed.
		d, l := a.calls.Attach(u, "bench"), a.calls.Log(u)
		go a.follow(ctx, u, d, l, l.Head(), log)
	}
	edge, err := webrtc.New(webrtc.Options{Hub: hub, Transcoder: tc, Access: a,
		Codecs: []codec.ID{codec.Opus, codec.PCMU}, Engine: engine,
		MaxSessions: 2*users + 10, MaxSessionsPerIP: 2*users + 10, ConnectTimeout: 2 * time.Minute, PlayQueue: liveQ, Logger: log})
	if err != nil {
		return err
	}
	defer edge.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /counters", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hub passed=%d transcoded=%d | whep passed=%d transcoded=%d | sip passed=%d transcoded=%d rtp_lost=%d active=%d",
			tc.Stats.PassedThroughFrames.Load(), tc.Stats.TranscodedFrames.Load(),
			edge.Stats.PassedThrough.Load(), edge.Stats.Transcoded.Load(),
			b.Stats.FramesPassedThrough.Load(), b.Stats.FramesTranscoded.Load(), b.Stats.RTPLost.Load(), b.Stats.Active.Load())
		if ps := edge.PlaneStats(); ps != nil {
			fmt.Fprintf(w, " | lite plane unknown=%d bad_checks=%d bad_srtp=%d bad_dtls=%d expired=%d",
				ps.Unknown.Load(), ps.BadChecks.Load(), ps.BadSRTP.Load(), ps.BadDTLS.Load(), ps.Expired.Load())
		}
		fmt.Fprintf(w, " | sip rtp_wrong_source=%d\n", b.Stats.RTPWrongSource.Load())
	})
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: edge.Handler(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = hs.Close() }()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
