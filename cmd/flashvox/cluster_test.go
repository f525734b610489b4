package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

const clusterSecret = "cluster-test-secret-0123"

// startClusterNode starts a flashvox node named name with the cluster
// configuration in yaml (a file) and env.
func startClusterNode(t *testing.T, name, yaml string, env ...string) *server {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + clusterSecret,
		"FLASHVOX_CLUSTER_NODE=" + name, "FLASHVOX_CLUSTER_HEARTBEAT=500ms"}, env...)
	return startFlashvoxWith(t, env, "--config", p)
}

// clusterNodes is what GET /api/v1/cluster answers about the nodes.
func clusterNodes(t *testing.T, s *server) []string {
	var out struct {
		Nodes []struct{ Node string }
	}
	if err := json.Unmarshal([]byte(httpGet(t, s.api+"/cluster")), &out); err != nil {
		return nil
	}
	var names []string
	for _, n := range out.Nodes {
		names = append(names, n.Node)
	}
	return names
}

func rtmpHost(s *server) string {
	return strings.TrimPrefix(strings.TrimSuffix(s.phoneURL, "/phone"), "rtmp://")
}

// TestPeerClusterStreamAcrossNodes: three flashvox processes in one
// cluster; ffmpeg publishes a tone on node a, ffmpeg plays it from node c
// and hears it; c's relay ends when its player leaves. Once with the
// embedded NATS servers routed to each other, once with Debian's
// nats-server as the external NATS.
func TestPeerClusterStreamAcrossNodes(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "ffmpeg")
	t.Run("embedded", func(t *testing.T) {
		ports := []int{testpeer.FreePort(t), testpeer.FreePort(t), testpeer.FreePort(t)}
		var routes []string
		for _, p := range ports {
			routes = append(routes, "127.0.0.1:"+strconv.Itoa(p))
		}
		yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
		var nodes []*server
		for i, name := range []string{"a", "b", "c"} {
			nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i]))
		}
		streamAcross(t, nodes)
		variantAcross(t, nodes[0], nodes[2])
	})
	t.Run("external nats-server", func(t *testing.T) {
		port := testpeer.FreePort(t)
		testpeer.Start(t, 3*time.Minute, "nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--auth", clusterSecret)
		testpeer.WaitTCP(t, "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
		url := "FLASHVOX_CLUSTER_NATS_URL=nats://127.0.0.1:" + strconv.Itoa(port)
		var nodes []*server
		for _, name := range []string{"a", "b", "c"} {
			nodes = append(nodes, startClusterNode(t, name, "", url))
		}
		streamAcross(t, nodes)
		// A node with another secret is refused by the server and does not start.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		wrong := exec.CommandContext(ctx, flashvoxBin(t))
		wrong.Env = append(os.Environ(), "FLASHVOX_RTMP_LISTEN=127.0.0.1:0", "FLASHVOX_HTTP_LISTEN=127.0.0.1:0", "FLASHVOX_SIP_LISTEN=127.0.0.1:0",
			"FLASHVOX_RTMFP_LISTEN=127.0.0.1:0", "FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_NODE=spy",
			"FLASHVOX_CLUSTER_SECRET=not-the-cluster-secret-42", url)
		msg, err := wrong.CombinedOutput()
		if err == nil || !strings.Contains(strings.ToLower(string(msg)), "authorization") {
			t.Fatalf("a node with a wrong secret: %v\n%s", err, msg)
		}
	})
}

func streamAcross(t *testing.T, nodes []*server) {
	a, c := nodes[0], nodes[2]
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "every node in /api/v1/cluster", func() bool {
			return strings.Join(clusterNodes(t, s), ",") == "a,b,c"
		})
	}
	tone := writeConfTone(t, 600, 16000, 60)
	testpeer.Start(t, 90*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", tone,
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+rtmpHost(a)+"/live/tone")
	out := filepath.Join(t.TempDir(), "c.wav")
	log, err := testpeer.Run(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-i", "rtmp://"+rtmpHost(c)+"/live/tone", "-t", "4", "-ar", "16000", "-ac", "1", out)
	if err != nil {
		t.Fatalf("ffmpeg playing from c: %v\n%s", err, log)
	}
	secondPublisherRefused(t, nodes[1]) // a's publisher is on: one of the name on b is refused
	at600, at1000, secs := toneLevels(t, out, 600, 1000)
	t.Logf("c heard %.1f s: 600 Hz at %.1f dB, 1000 Hz at %.1f dB", secs, at600, at1000)
	if at600 < at1000+20 {
		t.Fatalf("the tone published on a is not what c's player heard: 600 Hz %.1f dB, 1000 Hz %.1f dB", at600, at1000)
	}
	metrics := func(s *server) string { return httpGet(t, strings.TrimSuffix(s.api, "/api/v1")+"/metrics") }
	if m := metrics(c); !strings.Contains(m, "flashvox_cluster_frames_in_total") || strings.Contains(m, "flashvox_cluster_frames_in_total 0\n") {
		t.Fatalf("c's metrics show no relayed frames")
	}
	// The player left: c's relay ends, and a stops sending.
	testwait.For(t, 10*time.Second, "c's relay to end", func() bool { return strings.Contains(metrics(c), "flashvox_cluster_relays 0\n") })
	testwait.For(t, 10*time.Second, "a's export to end", func() bool { return strings.Contains(metrics(a), "flashvox_cluster_exports 0\n") })
	if m := metrics(a); !strings.Contains(m, `flashvox_cluster_node_load{node="c",what="connections"}`) {
		t.Fatalf("a's metrics do not list node c's load")
	}
}

// secondPublisherRefused: ffmpeg publishing live/tone on b, while a
// publishes it, is refused as on one node (NetStream.Publish.BadName):
// it exits with an error instead of publishing for two seconds.
func secondPublisherRefused(t *testing.T, b *server) {
	t.Helper()
	log, err := testpeer.Run(t, 30*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=900:sample_rate=16000", "-t", "2",
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+rtmpHost(b)+"/live/tone")
	if err == nil || !strings.Contains(log, "already being published") {
		t.Fatalf("a second publisher of live/tone on b: %v, want refused\n%s", err, log)
	}
	m := httpGet(t, strings.TrimSuffix(b.api, "/api/v1")+"/metrics")
	if !strings.Contains(m, "flashvox_cluster_publish_refused_total 1\n") {
		t.Fatalf("b's metrics do not count the refusal")
	}
}

// variantAcross: a signed-in ffmpeg player of live/tone?codec=pcmu on c
// (streamAcross left a's publisher running) hears the tone, which a
// transcodes: a runs the transcoder and exports the variant, c runs none.
func variantAcross(t *testing.T, a, c *server) {
	metrics := func(s *server) string { return httpGet(t, strings.TrimSuffix(s.api, "/api/v1")+"/metrics") }
	token := c.login(t, "alice").token
	out := filepath.Join(t.TempDir(), "c-pcmu.wav")
	player := testpeer.Start(t, 60*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-rtmp_app", "live", "-rtmp_playpath", "tone?codec=pcmu&token="+token, "-rtmp_live", "live",
		"-i", "rtmp://"+rtmpHost(c)+"/live", "-t", "4", "-ar", "16000", "-ac", "1", out)
	testwait.For(t, 15*time.Second, "a to transcode and export the pcmu variant for c", func() bool {
		ma, mc := metrics(a), metrics(c)
		return strings.Contains(ma, "flashvox_transcoders 1\n") && strings.Contains(ma, "flashvox_cluster_variant_exports 1\n") &&
			strings.Contains(mc, "flashvox_transcode_remote_variants 1\n")
	})
	if m := metrics(c); !strings.Contains(m, "flashvox_transcoders 0\n") {
		t.Fatal("c runs a transcoder for a variant a transcodes")
	}
	if err := player.Wait(); err != nil {
		t.Fatalf("ffmpeg playing ?codec=pcmu from c: %v\n%s", err, player.Output())
	}
	at600, at1000, secs := toneLevels(t, out, 600, 1000)
	t.Logf("c's pcmu player heard %.1f s: 600 Hz at %.1f dB, 1000 Hz at %.1f dB", secs, at600, at1000)
	if at600 < at1000+20 {
		t.Fatalf("c's pcmu player did not hear a's tone: 600 Hz %.1f dB, 1000 Hz %.1f dB", at600, at1000)
	}
	testwait.For(t, 10*time.Second, "a's variant export and transcoder to end", func() bool {
		m := metrics(a)
		return strings.Contains(m, "flashvox_cluster_variant_exports 0\n") && strings.Contains(m, "flashvox_transcoders 0\n")
	})
}

// TestPeerClusterCallAcrossNodes: alice, a headless RTMP phone on node a,
// calls bob, a headless phone on node b (embedded NATS), over RTMP and
// then over RTMFP: each hears the other's tone and bob gets alice's DTMF;
// the call's owner is a (the caller's node).
func TestPeerClusterCallAcrossNodes(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	udp := freeAddr(t)
	a, b := startClusterPair(t, "FLASHVOX_RTMFP_LISTEN="+udp)
	for _, c := range []struct{ name, bobURL string }{
		{"rtmp to rtmp", b.phoneURL},
		{"rtmp to rtmfp", "rtmfp://" + udp + "/phone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bobAt := *b
			bobAt.phoneURL = c.bobURL
			dir := t.TempDir()
			aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
			bob := bobAt.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--record", bRec, "--codec", "nellymoser", "--timeout", "30s")
			waitUsersOn(t, a, "b", 1) // a learns from b's heartbeats that bob is online there
			alice := a.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--record", aRec, "--duration", "5s", "--codec", "speex", "--dtmf", "7")
			if code, out := alice.wait(t, 20*time.Second); code != 0 {
				t.Fatalf("alice exit %d: %s", code, out)
			}
			code, out := bob.wait(t, 10*time.Second)
			if code != 0 || !strings.Contains(out, "DTMF 7") {
				t.Fatalf("bob exit %d: %s", code, out)
			}
			w, o, secs := toneLevels(t, bRec, 440, 880)
			t.Logf("bob (node b) heard %.1f s: 440 Hz %.1f dB, 880 Hz %.1f dB", secs, w, o)
			if w < -20 || w-o < 20 {
				t.Errorf("bob must hear alice's 440 Hz")
			}
			w, o, secs = toneLevels(t, aRec, 880, 440)
			t.Logf("alice (node a) heard %.1f s: 880 Hz %.1f dB, 440 Hz %.1f dB", secs, w, o)
			if w < -20 || w-o < 20 {
				t.Errorf("alice must hear bob's 880 Hz")
			}
			waitUsersOn(t, a, "b", 0) // bob's phone is gone before the next run
		})
	}
}

// startClusterPair starts nodes a and b with embedded NATS routed to each
// other, and waits until each sees both.
func startClusterPair(t *testing.T, bEnv ...string) (*server, *server) {
	t.Helper()
	return startClusterPairYAML(t, "", bEnv...)
}

// startClusterPairYAML is startClusterPair with more configuration for b.
func startClusterPairYAML(t *testing.T, bYAML string, bEnv ...string) (*server, *server) {
	t.Helper()
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	a := startClusterNode(t, "a", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[0])
	b := startClusterNode(t, "b", yaml+bYAML, append([]string{"FLASHVOX_CLUSTER_LISTEN=" + routes[1]}, bEnv...)...)
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	return a, b
}

// waitUsersOn waits until s's /api/v1/cluster says node has users online.
func waitUsersOn(t *testing.T, s *server, node string, users int) {
	t.Helper()
	testwait.For(t, 15*time.Second, fmt.Sprintf("%d users online on %s", users, node), func() bool {
		var out struct {
			Nodes []struct {
				Node string
				Load struct{ Users int }
			}
		}
		if json.Unmarshal([]byte(httpGet(t, s.api+"/cluster")), &out) != nil {
			return false
		}
		for _, n := range out.Nodes {
			if n.Node == node && n.Load.Users == users {
				return true
			}
		}
		return false
	})
}

// TestPeerClusterCallNodeLost: alice (HTTP API) on a sees bob (HTTP API,
// on b) online and calls him; bob answers; b is SIGKILLed: alice's call
// ends with reason node_lost after three missed heartbeats, bob is
// offline for her, and a call to him is refused as offline.
func TestPeerClusterCallNodeLost(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	a, b := startClusterPair(t)
	bob := b.login(t, "bob")
	waitUsersOn(t, a, "b", 1)
	alice := a.login(t, "alice")
	presence := func() string {
		var pres struct{ Users map[string]string }
		alice.do("GET", "/presence", "", &pres)
		return pres.Users["bob"]
	}
	testwait.For(t, 15*time.Second, "bob (on b) online in alice's presence on a", func() bool { return presence() == "online" })
	var out struct{ Call string }
	if code := alice.do("POST", "/calls", `{"to":"bob"}`, &out); code != 201 {
		t.Fatalf("invite: %d", code)
	}
	alice.expect("ringing", "", 5*time.Second)
	in := bob.expect("incoming", "", 5*time.Second)
	if in.From != "alice" {
		t.Fatalf("bob's incoming call is from %q", in.From)
	}
	if code := bob.do("POST", "/calls/"+in.Call+"/accept", "{}", nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	alice.expect("accepted", "", 5*time.Second)
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	alice.expect("bye", "node_lost", 10*time.Second)
	testwait.For(t, 15*time.Second, "a to drop b", func() bool { return strings.Join(clusterNodes(t, a), ",") == "a" })
	testwait.For(t, 15*time.Second, "bob offline in alice's presence", func() bool { return presence() == "offline" })
	if code := alice.do("POST", "/calls", `{"to":"bob"}`, &out); code != 201 {
		t.Fatalf("invite after the loss: %d", code)
	}
	alice.expect("rejected", "offline", 5*time.Second)
}

// TestPeerClusterRedirect: node a, above cluster.redirect_above (1
// connection: ffmpeg's publisher), redirects a new RTMP connect to node b
// (cluster.rtmp_url), FMS-style; the player that follows it hears a's
// stream on b.
func TestPeerClusterRedirect(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	testpeer.Require(t, "rtmpdump")
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	bRTMP := freeAddr(t)
	a := startClusterNode(t, "a", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[0], "FLASHVOX_CLUSTER_REDIRECT_ABOVE=1")
	b := startClusterNode(t, "b", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[1], "FLASHVOX_RTMP_LISTEN="+bRTMP, "FLASHVOX_CLUSTER_RTMP_URL=rtmp://"+bRTMP)
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	tone := writeConfTone(t, 600, 16000, 60)
	testpeer.Start(t, 90*time.Second, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", tone,
		"-c:a", "nellymoser", "-ar", "16000", "-ac", "1", "-f", "flv", "rtmp://"+rtmpHost(a)+"/live/tone")
	testwait.For(t, 10*time.Second, "a's publisher", func() bool {
		return strings.Contains(httpGet(t, strings.TrimSuffix(a.api, "/api/v1")+"/metrics"), "flashvox_publishers 1\n")
	})
	out, _ := testpeer.Run(t, 20*time.Second, "timeout", "-s", "INT", "5", "rtmpdump", "-V", "-r", "rtmp://"+rtmpHost(a)+"/live/tone", "--live", "-o", "/dev/null")
	want := "redirected to rtmp://" + bRTMP + "/live"
	if !strings.Contains(out, want) {
		t.Fatalf("a second connect to a: want %q in rtmpdump's output:\n%s", want, out)
	}
	// Following the redirect: the same stream, from b.
	flv := filepath.Join(t.TempDir(), "b.flv")
	testpeer.Start(t, 30*time.Second, "rtmpdump", "-r", "rtmp://"+bRTMP+"/live/tone", "--live", "-o", flv)
	testwait.For(t, 15*time.Second, "the redirected player to get a's stream on b", func() bool { return flvAudio(flv) > 20 })
}

// TestPeerClusterCallSIPPhone: a baresip phone registered as carol
// through node b is called by alice's RTMP phone on node a; each hears
// the other's tone. (b offers MD5 digests only: baresip 1.0 cannot
// answer the SHA-256 challenge the default config offers first.)
func TestPeerClusterCallSIPPhone(t *testing.T) {
	testpeer.SkipShort(t, "real peers")
	sipAddr := freeAddr(t)
	a, _ := startClusterPairYAML(t, "sip:\n  digest_algorithms: [MD5]\n", "FLASHVOX_SIP_LISTEN="+sipAddr)
	const sipHz, aliceHz = 660.0, 440.0
	carol := testpeer.StartBaresip(t, 40*time.Second, testpeer.BaresipOptions{
		Account:   "<sip:carol@" + sipAddr + ">;auth_pass=carol;answermode=auto;audio_codecs=PCMU",
		SourceWAV: writeConfTone(t, sipHz, 8000, 30), Seconds: 30,
	})
	waitUsersOn(t, a, "b", 1) // carol registered on b, as b's heartbeats tell a
	rec := filepath.Join(t.TempDir(), "alice.wav")
	alice := a.phone(t, "alice", "call", "carol", "--play", writeTone(t, aliceHz), "--record", rec, "--duration", "5s", "--codec", "nellymoser")
	if code, out := alice.wait(t, 25*time.Second); code != 0 {
		t.Fatalf("alice exit %d: %s\nbaresip:\n%s", code, out, carol.Output())
	}
	heard, other, secs := toneLevels(t, rec, sipHz, aliceHz)
	t.Logf("alice (node a) heard %.1f s: %v Hz at %.1f dB, %v Hz at %.1f dB", secs, sipHz, heard, aliceHz, other)
	if heard < -30 || heard-other < 20 {
		t.Errorf("alice must hear carol's %v Hz (a SIP phone on node b)", sipHz)
	}
	carol.Stop() // closes its recording
	got := carol.Heard()
	if got == "" {
		t.Fatalf("baresip recorded nothing\n%s", carol.Output())
	}
	pcm, rate := lastSeconds(t, got, 2)
	if db := audiotest.ToneDB(pcm, rate, aliceHz); db < -30 {
		t.Errorf("carol (SIP on node b) must hear alice's %v Hz: %.1f dB", aliceHz, db)
	}
}

// TestPeerClusterNodeLossSparesOthers: nodes a, b, c; alice on b talks
// with bob on c for 8 s; a is SIGKILLed in the middle of their call: the
// call goes on to its end, and neither loses more than 200 ms of audio.
// (A phone records what arrives, in arrival order: lost audio shows as a
// shorter recording; a stall that loses nothing is not measured here.)
func TestPeerClusterNodeLossSparesOthers(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	var routes []string
	for range 3 {
		routes = append(routes, "127.0.0.1:"+strconv.Itoa(testpeer.FreePort(t)))
	}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	var nodes []*server
	for i, name := range []string{"a", "b", "c"} {
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i]))
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "every node in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b,c" })
	}
	dir := t.TempDir()
	aRec, bRec := filepath.Join(dir, "alice.wav"), filepath.Join(dir, "bob.wav")
	bob := c.phone(t, "bob", "answer", "--play", writeTone(t, 880), "--record", bRec, "--codec", "nellymoser", "--timeout", "30s")
	waitUsersOn(t, b, "c", 1)
	alice := b.phone(t, "alice", "call", "bob", "--play", writeTone(t, 440), "--record", aRec, "--duration", "8s", "--codec", "nellymoser")
	testwait.For(t, 15*time.Second, "the call's audio relayed to b", func() bool {
		return strings.Contains(httpGet(t, strings.TrimSuffix(b.api, "/api/v1")+"/metrics"), "flashvox_cluster_relays 1\n")
	})
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "b and c to drop a", func() bool {
		return strings.Join(clusterNodes(t, b), ",") == "b,c" && strings.Join(clusterNodes(t, c), ",") == "b,c"
	})
	if code, out := alice.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("alice exit %d: %s", code, out)
	}
	if code, out := bob.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("bob exit %d: %s", code, out)
	}
	for _, r := range []struct {
		who, path string
		hz        float64
	}{{"alice", aRec, 880}, {"bob", bRec, 440}} {
		pcm, rate, err := audiotest.ReadWAV(r.path)
		if err != nil {
			t.Fatal(err)
		}
		heard := time.Duration(len(pcm)) * time.Second / time.Duration(rate)
		t.Logf("%s heard %v of the 8 s call", r.who, heard.Round(time.Millisecond))
		if heard < 8*time.Second-200*time.Millisecond {
			t.Errorf("%s lost %v of audio while node a died", r.who, 8*time.Second-heard)
		}
		if db := audiotest.ToneDB(pcm[rate:], rate, r.hz); db < -20 {
			t.Errorf("%s must hear %v Hz: %.1f dB", r.who, r.hz, db)
		}
	}
}
