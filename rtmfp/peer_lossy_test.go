package rtmfp_test

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmfp"
)

// lossyRelay forwards UDP between one client and a server, dropping a
// share of the datagrams each way and delaying some (reordering). Its
// goroutines end when the test does.
type lossyRelay struct {
	pc      *net.UDPConn
	server  netip.AddrPort
	loss    float64
	reorder float64

	mu      sync.Mutex // guards rng and client
	rng     *rand.Rand
	client  netip.AddrPort
	dropped int
	relayed int
}

func startLossyRelay(t *testing.T, server string, loss, reorder float64) *lossyRelay {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{pc: pc, server: netip.MustParseAddrPort(server), loss: loss, reorder: reorder, rng: rand.New(rand.NewPCG(42, 7))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 9000)
		for ctx.Err() == nil {
			_ = pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				continue
			}
			from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
			r.mu.Lock()
			to := r.server
			if from == r.server {
				to = r.client
			} else {
				r.client = from
			}
			drop, late := r.rng.Float64() < r.loss, r.rng.Float64() < r.reorder
			if drop {
				r.dropped++
			} else {
				r.relayed++
			}
			r.mu.Unlock()
			if drop || !to.IsValid() {
				continue
			}
			b := append([]byte(nil), buf[:n]...)
			if late {
				wg.Add(1)
				go func() { // owned by the relay: ends after 20 ms
					defer wg.Done()
					time.Sleep(20 * time.Millisecond) // the reordering delay itself
					_, _ = pc.WriteToUDPAddrPort(b, to)
				}()
				continue
			}
			_, _ = pc.WriteToUDPAddrPort(b, to)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		pc.Close()
	})
	return r
}

// TestPeerLossyPublish: tcpublish reaches flashvox through a relay that
// drops 10 % of datagrams each way and reorders 5 %; ffmpeg plays 15 s over
// RTMP: the audio is continuous and the delay does not build up (ffmpeg
// takes about 15 s of wall time for 15 s of media).
func TestPeerLossyPublish(t *testing.T) {
	st := startStack(t, rtmfp.Config{})
	relay := startLossyRelay(t, st.RTMFPAddr, 0.10, 0.05)
	src := nellyFLV(t, 4)
	pub := testpeer.Start(t, 60*time.Second, "stdbuf", "-oL", tool(t, "tcpublish"), "-L",
		"rtmfp://"+relay.pc.LocalAddr().String()+"/live#lossy", src)
	waitStream(t, st, "lossy", pub)
	out := filepath.Join(t.TempDir(), "got.flv")
	start := time.Now()
	if o, err := testpeer.Run(t, 40*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", st.URL("live/lossy"), "-t", "15", "-c", "copy", "-f", "flv", out); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, o)
	}
	wall := time.Since(start)
	tags, err := testpeer.ReadFLV(out)
	if err != nil {
		t.Fatal(err)
	}
	var audio []testpeer.Tag
	for _, tg := range tags {
		if tg.Type == 8 && len(tg.Data) > 0 {
			audio = append(audio, tg)
		}
	}
	holes := 0
	for i := 1; i < len(audio); i++ {
		if audio[i].Timestamp-audio[i-1].Timestamp > 100 {
			holes++
		}
	}
	relay.mu.Lock()
	dropped, relayed := relay.dropped, relay.relayed
	relay.mu.Unlock()
	t.Logf("%d audio tags, %d gaps > 100 ms, ffmpeg wall time %v; relay dropped %d of %d; rtmfp %+v",
		len(audio), holes, wall.Round(time.Millisecond), dropped, dropped+relayed, st.RTMFP.Stats().Snapshot())
	if len(audio) < 15*625/10*9/10 {
		t.Errorf("%d audio tags for 15 s, want ≥ 90 %% of 937", len(audio))
	}
	if holes > 3 {
		t.Errorf("%d gaps over 100 ms in the audio", holes)
	}
	if wall > 19*time.Second {
		t.Errorf("15 s of media took %v: the delay builds up", wall)
	}
}
