package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// startClusterTrio starts nodes a, b and c (embedded NATS routed to each
// other) with confConfig's users and rooms, and waits until each sees all.
func startClusterTrio(t *testing.T) []*server {
	t.Helper()
	var routes []string
	for range 3 {
		routes = append(routes, "127.0.0.1:"+strconv.Itoa(testpeer.FreePort(t)))
	}
	yaml := confConfig + fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	var nodes []*server
	for i, name := range []string{"a", "b", "c"} {
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i]))
	}
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "every node in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b,c" })
	}
	return nodes
}

// roomMembers is how many members node s says room has (-1: s does not
// hold it).
func roomMembers(u *httpUser, room string) int {
	var info struct{ Members []struct{ ID string } }
	if code := u.do("GET", "/conferences/"+room, "", &info); code != 200 {
		return -1
	}
	return len(info.Members)
}

// TestPeerClusterConference: a mixed room with one `flashvox client`
// phone on each of three nodes, each sending its own tone: every phone
// hears the two others and not itself, through the one node that holds
// the room. Then, in a second room, the node holding it is SIGKILLed:
// the room moves to a survivor, and the phones of the two other nodes,
// rejoined by their nodes without doing anything, hear each other again.
func TestPeerClusterConference(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	nodes := startClusterTrio(t)
	names := []string{"a", "b", "c"}
	tones := confTones[:3]
	dir := t.TempDir()
	talk := func(room string, secs int, codecName string) ([]*phoneProc, []string) {
		var procs []*phoneProc
		var recs []string
		for i, s := range nodes {
			rec := filepath.Join(dir, fmt.Sprintf("%s-p%d.wav", room, i+1))
			procs = append(procs, s.phone(t, fmt.Sprintf("p%d", i+1), "call", "conf:"+room, "--duration", fmt.Sprintf("%ds", secs),
				"--play", writeConfTone(t, tones[i], 16000, 1), "--record", rec, "--codec", codecName))
			recs = append(recs, rec)
		}
		return procs, recs
	}
	others := func(i int, alive []int) []float64 {
		var out []float64
		for _, k := range alive {
			if k != i {
				out = append(out, tones[k])
			}
		}
		return out
	}
	t.Run("everyone hears the others", func(t *testing.T) {
		procs, recs := talk("mixed5", 10, "nellymoser")
		for i, p := range procs {
			if code, out := p.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("p%d (node %s) exit %d: %s", i+1, names[i], code, out)
			}
		}
		for i, rec := range recs {
			pcm, rate := lastSeconds(t, rec, 3)
			audiotest.HearsOthers(t, fmt.Sprintf("p%d on %s", i+1, names[i]), pcm, rate, tones[i], others(i, []int{0, 1, 2})...)
		}
	})
	t.Run("the room's node is killed", func(t *testing.T) {
		const room = "mute"
		users := make([]*httpUser, len(nodes))
		for i, s := range nodes {
			users[i] = s.login(t, "mod")
		}
		procs, recs := talk(room, 20, "nellymoser")
		owner := -1
		testwait.For(t, 15*time.Second, "the three phones in the room on its node", func() bool {
			for i, u := range users {
				if roomMembers(u, room) == 3 {
					owner = i
					return true
				}
			}
			return false
		})
		held := 0
		for _, u := range users {
			if roomMembers(u, room) >= 0 {
				held++
			}
		}
		if held != 1 {
			t.Fatalf("%d nodes hold the room, want one", held)
		}
		t.Logf("room held by node %s", names[owner])
		if err := nodes[owner].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		var alive []int
		for i := range nodes {
			if i != owner {
				alive = append(alive, i)
			}
		}
		testwait.For(t, 15*time.Second, "the room on a survivor with the two other phones", func() bool {
			for _, i := range alive {
				if roomMembers(users[i], room) == 2 {
					return true
				}
			}
			return false
		})
		t.Logf("room moved %v after the SIGKILL (heartbeat 500 ms)", time.Since(killed).Round(10*time.Millisecond))
		for _, i := range alive {
			if code, out := procs[i].wait(t, 40*time.Second); code != 0 {
				t.Fatalf("p%d (node %s) exit %d: %s", i+1, names[i], code, out)
			}
		}
		for _, i := range alive {
			pcm, rate := lastSeconds(t, recs[i], 3)
			audiotest.HearsOthers(t, fmt.Sprintf("p%d on %s after the move", i+1, names[i]), pcm, rate, tones[i], others(i, alive)...)
		}
	})
}
