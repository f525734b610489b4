// Command rtmpt compares the server CPU that RTMPT (the HTTP tunnel) costs
// against plain RTMP for the same 16 kHz voice stream: it starts a flashvox
// process, publishes a Nellymoser-sized stream (65 bytes every 16 ms) over
// RTMP, plays it with -players Go clients over RTMP, then over RTMPT, and
// reads the server's utime+stime from /proc for each window. Traffic stays
// on 127.0.0.1 and the run ends by itself.
//
//	go build -o bin/bench-rtmpt ./bench/rtmpt && bin/bench-rtmpt -flashvox bin/flashvox
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

func main() {
	bin := flag.String("flashvox", "bin/flashvox", "flashvox binary")
	players := flag.Int("players", 50, "players per transport")
	window := flag.Duration("window", 10*time.Second, "measurement window per transport")
	flag.Parse()
	if err := run(*bin, *players, *window); err != nil {
		log.Fatal(err)
	}
}

func run(bin string, players int, window time.Duration) error {
	rtmpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	httpAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*window+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN="+rtmpAddr, "FLASHVOX_HTTP_LISTEN="+httpAddr,
		"FLASHVOX_SIP_LISTEN=127.0.0.1:0", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_LOG_LEVEL=warn")
	cmd.Stderr = os.Stderr
	srv, err := proc.Start(cmd, "flashvox", rtmpAddr, syscall.SIGTERM)
	if err != nil {
		return err
	}
	defer srv.Stop()

	pub, err := rtmp.Dial(ctx, "rtmp://"+rtmpAddr+"/live", rtmp.ClientOptions{})
	if err != nil {
		return err
	}
	defer pub.Close()
	id, err := pub.CreateStream(ctx)
	if err != nil {
		return err
	}
	if err := pub.Publish(ctx, id, "voice", "live"); err != nil {
		return err
	}
	go func() { // the voice stream, until the run ends
		tick := time.NewTicker(16 * time.Millisecond)
		defer tick.Stop()
		payload := append([]byte{0x42}, make([]byte, 64)...)
		for n := uint32(0); ctx.Err() == nil; n++ {
			<-tick.C
			if pub.WriteAudio(id, n*16, payload) != nil {
				return
			}
		}
	}()

	fmt.Printf("%d players of one 16 kHz Nellymoser-sized stream, %s window each (after 2 s warm-up)\n\n", players, window)
	fmt.Println("| transport | server CPU, % of one core | CPU ms per player-minute | frames received |")
	fmt.Println("|---|---:|---:|---:|")
	for _, tr := range []struct{ name, url string }{
		{"rtmp", "rtmp://" + rtmpAddr + "/live"},
		{"rtmpt", "rtmpt://" + httpAddr + "/live"},
	} {
		var got atomic.Int64
		var clients []*rtmp.Client
		for range players {
			c, err := rtmp.Dial(ctx, tr.url, rtmp.ClientOptions{OnMessage: func(m *message.Message) {
				if m.Type == message.TypeAudio {
					got.Add(1)
				}
			}})
			if err != nil {
				return fmt.Errorf("%s: %w", tr.name, err)
			}
			clients = append(clients, c)
			sid, err := c.CreateStream(ctx)
			if err != nil {
				return err
			}
			if err := c.Play(ctx, sid, "voice"); err != nil {
				return err
			}
		}
		time.Sleep(2 * time.Second) // warm-up
		c0, err := srv.CPU()
		if err != nil {
			return err
		}
		g0 := got.Load()
		time.Sleep(window)
		c1, err := srv.CPU()
		if err != nil {
			return err
		}
		frames := got.Load() - g0
		used := c1 - c0
		fmt.Printf("| %s | %.1f | %.1f | %d |\n", tr.name, 100*used.Seconds()/window.Seconds(),
			float64(used.Milliseconds())/float64(players)/window.Minutes(), frames)
		for _, c := range clients {
			c.Close()
		}
	}
	return nil
}
