package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterFailover: nodes a, b, c announce their RTMP URLs; alice's
// phone (`flashvox client answer --cluster …`) is connected to a and knows
// the cluster's status URLs. a is SIGKILLed: alice's phone reconnects to
// another live node (from b's node list) within 5 s, and bob, on c,
// calls her there at once, whether or not c dropped a yet: the call goes
// through and she hears him.
func TestPeerClusterFailover(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	var routes []string
	for range 3 {
		routes = append(routes, "127.0.0.1:"+strconv.Itoa(testpeer.FreePort(t)))
	}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	var nodes []*server
	for i, name := range []string{"a", "b", "c"} {
		rtmp := freeAddr(t)
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i],
			"FLASHVOX_RTMP_LISTEN="+rtmp, "FLASHVOX_CLUSTER_RTMP_URL=rtmp://"+rtmp))
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "every node in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b,c" })
	}
	status := a.api + "/cluster," + b.api + "/cluster," + c.api + "/cluster"
	rec := t.TempDir() + "/alice.wav"
	alice := a.phone(t, "alice", "answer", "--cluster", status, "--record", rec, "--codec", "nellymoser", "--timeout", "60s", "-v")
	waitUsersOn(t, c, "a", 1)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// c need not have dropped a: alice's new node claimed her last, so c
	// calls her there at once (docs/CLUSTER.md "Presence between heartbeats").
	testwait.For(t, 5*time.Second, "alice back online on b or c", func() bool {
		return usersOn(t, c, "b") == 1 || usersOn(t, c, "c") == 1
	})
	back := time.Since(killed)
	aListed := slices.Contains(clusterNodes(t, c), "a")
	onB := usersOn(t, c, "b") == 1
	t.Logf("alice was online again on b: %v, %v after a's SIGKILL (c still lists a: %v)", onB, back.Round(10*time.Millisecond), aListed)
	bob := c.phone(t, "bob", "call", "alice", "--play", writeTone(t, 880), "--duration", "5s", "--codec", "nellymoser")
	if code, out := bob.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("bob's call to alice after the failover: exit %d: %s", code, out)
	}
	t.Logf("bob's call from c reached alice; placed %v after a's SIGKILL", back.Round(10*time.Millisecond))
	code, out := alice.wait(t, 15*time.Second)
	if code != 0 {
		t.Fatalf("alice exit %d: %s", code, out)
	}
	if !strings.Contains(out, "trying another") {
		t.Errorf("alice's phone does not log its failover:\n%s", out)
	}
	heard, other, secs := toneLevels(t, rec, 880, 440)
	t.Logf("alice heard %.1f s: 880 Hz %.1f dB", secs, heard)
	if heard < -20 || heard-other < 20 {
		t.Errorf("alice must hear bob's 880 Hz after her failover")
	}
}

// usersOn is the user count node has as s's /api/v1/cluster tells it (-1: not listed).
func usersOn(t *testing.T, s *server, node string) int {
	var out struct {
		Nodes []struct {
			Node string
			Load struct{ Users int }
		}
	}
	if json.Unmarshal([]byte(httpGet(t, s.api+"/cluster")), &out) != nil {
		return -1
	}
	for _, n := range out.Nodes {
		if n.Node == node {
			return n.Load.Users
		}
	}
	return -1
}
