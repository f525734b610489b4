// Command webrtc is a WebRTC load client for flashvox's WHIP/WHEP
// edge: it starts a flashvox process, opens -streams WHEP players and as
// many WHIP publishers (one stream each, the shape of one direction of a
// browser ↔ SIP call), sends 20 ms frames for -duration and reports
// sessions that failed, frames lost, the delay the server adds (p50, p99:
// from the publisher's write to the player's read, both on this host, so
// an upper bound), the server's CPU and the load client's own.
//
// -client picks the load client's WebRTC stack: plane (default:
// webrtc/plane's dialling role, every session on one UDP port, so the
// client leaves the cores to the server) or pion (a PeerConnection per
// session, the stack of the figures in BENCHMARKS.md before the plane).
//
// Modes: pcmu and opus are pass-through (publisher and player in one
// codec: the edge only re-packetises, and each frame carries its sequence
// number and send time); transcoded publishes Opus and plays PCMU (one
// Opus decoder and PCMU encoder per stream, shared by its players), and
// transcoded-back the other direction of such a call (PCMU decoder, Opus
// encoder), the frame matched by its RTP timestamp.
//
//	go build -o bin/flashvox ./cmd/flashvox && go run ./bench/webrtc -mode pcmu -streams 200 -duration 30s
//
// Traffic stays on 127.0.0.1; the run ends by itself (-duration ≤ 60 s).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/bench/internal/whipload"
)

type options struct {
	flashvox  string
	client    string
	engine    string // the server's WebRTC engine
	mode      string
	streams   int
	duration  time.Duration
	parallel  int
	keepAlive bool
}

func main() {
	var o options
	flag.StringVar(&o.flashvox, "flashvox", "bin/flashvox", "flashvox binary to start")
	flag.StringVar(&o.client, "client", "plane", "the load client's WebRTC stack: "+whipload.Clients)
	flag.StringVar(&o.engine, "engine", "lite", "the server's WebRTC engine: lite (the media plane) or pion")
	flag.StringVar(&o.mode, "mode", "pcmu", "pcmu or opus (pass-through), transcoded (Opus published, PCMU played), transcoded-back (PCMU published, Opus played)")
	flag.IntVar(&o.streams, "streams", 50, "streams: one WHIP publisher and one WHEP player each")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "sending time (at most 60 s)")
	flag.IntVar(&o.parallel, "parallel", 8, "offers in flight while setting up")
	flag.Parse()
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

// modes: the publisher's and the player's codec.
var modes = map[string][2]string{"pcmu": {"pcmu", "pcmu"}, "opus": {"opus", "opus"}, "transcoded": {"opus", "pcmu"}, "transcoded-back": {"pcmu", "opus"}}

func run(o options) error {
	m, ok := modes[o.mode]
	if !ok {
		return fmt.Errorf("-mode %q: pcmu, opus, transcoded or transcoded-back", o.mode)
	}
	if o.duration > time.Minute || o.duration <= 0 || o.streams < 1 {
		return errors.New("-duration must be in (0, 60s], -streams ≥ 1")
	}
	client, err := whipload.NewClient(o.client)
	if err != nil {
		return err
	}
	defer client.Close()
	httpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.flashvox)
	n := strconv.Itoa(2*o.streams + 10)
	cmd.Env = append(os.Environ(), "FLASHVOX_HTTP_LISTEN="+httpAddr, "FLASHVOX_RTMP_LISTEN=127.0.0.1:0",
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_LEVEL=warn",
		"FLASHVOX_WEBRTC_MAX_SESSIONS="+n, "FLASHVOX_WEBRTC_MAX_SESSIONS_PER_IP="+n,
		"FLASHVOX_RTMP_MAX_TRANSCODERS="+n, "FLASHVOX_WEBRTC_CONNECT_TIMEOUT=2m", "FLASHVOX_WEBRTC_ENGINE="+o.engine)
	cmd.Stderr = os.Stderr
	srv, err := proc.Start(cmd, "flashvox", httpAddr, syscall.SIGTERM)
	if err != nil {
		return err
	}
	defer srv.Stop()
	base := "http://" + httpAddr + "/live/"

	setup := time.Now()
	r := &runState{client: client, mode: o.mode, pubCodec: m[0], playCodec: m[1], transcoded: m[0] != m[1]}
	if err := r.connect(ctx, base, o.streams, o.parallel); err != nil {
		return err
	}
	log.Printf("%d streams set up in %v (%d sessions failed)", o.streams, time.Since(setup).Round(time.Millisecond), r.failed.Load())
	cpu0, _ := srv.CPU()
	self0, _ := proc.SelfCPU()
	start := time.Now()
	r.send(o.duration)
	elapsed := time.Since(start)
	cpu1, _ := srv.CPU()
	self1, _ := proc.SelfCPU()
	r.drain()
	rss, _ := srv.RSS()
	r.report(o, elapsed, cpu1-cpu0, self1-self0, rss, proc.Metrics("http://"+httpAddr+"/metrics", "flashvox_webrtc_"))
	r.close()
	return nil
}
