package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterDoublePublish: two flashvox nodes on Debian's
// nats-server; with the server down (each node has dropped the other
// from its table), ffmpeg publishes live/twice on a (600 Hz) and then on
// b (1000 Hz), both accepted. Once the server is back, b's publisher (the
// later claim) is refused and exits, a's goes on, and a player on b
// hears a's tone.
func TestPeerClusterDoublePublish(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "ffmpeg")
	port := strconv.Itoa(testpeer.FreePort(t))
	natsArgs := []string{"-a", "127.0.0.1", "-p", port, "--auth", clusterSecret}
	nats := testpeer.Start(t, 2*time.Minute, "nats-server", natsArgs...)
	testpeer.WaitTCP(t, "127.0.0.1:"+port, 10*time.Second)
	url := "FLASHVOX_CLUSTER_NATS_URL=nats://127.0.0.1:" + port
	a, b := startClusterNode(t, "a", "", url), startClusterNode(t, "b", "", url)
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool {
			return strings.Join(clusterNodes(t, s), ",") == "a,b"
		})
	}
	metrics := func(s *server) string { return httpGet(t, strings.TrimSuffix(s.api, "/api/v1")+"/metrics") }
	nats.Stop()
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "each node alone", func() bool { return len(clusterNodes(t, s)) == 1 })
	}
	publish := func(s *server, freq string) *testpeer.Proc {
		p := testpeer.Start(t, time.Minute, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
			"-f", "lavfi", "-i", "sine=frequency="+freq+":sample_rate=16000",
			"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+rtmpHost(s)+"/live/twice")
		testwait.For(t, 15*time.Second, "the publish accepted", func() bool { return strings.Contains(metrics(s), "flashvox_publishers 1\n") })
		return p
	}
	pubA := publish(a, "600")
	pubB := publish(b, "1000")
	testpeer.Start(t, 2*time.Minute, "nats-server", natsArgs...)
	select {
	case <-pubB.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("b's publisher still runs 15 s after the nats-server came back")
	}
	if out := pubB.Output(); !strings.Contains(out, "published on another node") {
		t.Fatalf("b's ffmpeg: %q, want the cluster's refusal", out)
	}
	if pubA.Exited() {
		t.Fatalf("a's publisher (the earlier claim) ended: %s", pubA.Output())
	}
	if !strings.Contains(metrics(b), "flashvox_cluster_publish_lost_total 1\n") || !strings.Contains(metrics(a), "flashvox_cluster_publish_lost_total 0\n") {
		t.Fatal("the metrics do not count b's lost publisher (only)")
	}
	out := filepath.Join(t.TempDir(), "b.wav")
	if log, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", "rtmp://"+rtmpHost(b)+"/live/twice", "-t", "3", "-ar", "16000", "-ac", "1", out); err != nil {
		t.Fatalf("ffmpeg playing from b: %v\n%s", err, log)
	}
	at600, at1000, secs := toneLevels(t, out, 600, 1000)
	t.Logf("b's player heard %.1f s: 600 Hz at %.1f dB, 1000 Hz at %.1f dB", secs, at600, at1000)
	if at600 < at1000+20 {
		t.Fatalf("b's player does not hear a's tone: 600 Hz %.1f dB, 1000 Hz %.1f dB", at600, at1000)
	}
}
