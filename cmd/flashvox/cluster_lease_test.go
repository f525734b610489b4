package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterConferenceLease: two `bin/flashvox` nodes sharing one
// PostgreSQL place a conference room by its lease there. First joins of
// one new room on both nodes at once make one room with both members,
// held by the lease's holder; when that node is SIGKILLed, the other
// node's member follows the room to it, which takes the lease no earlier
// than the dead node's lapsed.
func TestPeerClusterConferenceLease(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	pg := testpeer.StartPostgres(t)
	db, err := sql.Open("pgx", pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := confConfig + fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	var nodes []*server
	for i, name := range []string{"a", "b"} {
		nodes = append(nodes, startClusterNode(t, name, yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[i], "FLASHVOX_DATABASE_URL="+pg.URL))
	}
	for _, s := range nodes {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	users := []*httpUser{nodes[0].login(t, "p1"), nodes[1].login(t, "p2")}
	const room = "leased"
	codes := make([]int, len(users))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", u.s.api+"/conferences/"+room+"/join", strings.NewReader(`{"mode":"mixed"}`))
			req.Header.Set("Authorization", "Bearer "+u.token)
			if res, err := http.DefaultClient.Do(req); err == nil {
				codes[i] = res.StatusCode
				res.Body.Close()
			}
		}()
	}
	close(start)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("joins at once on a and b: %v, want 200 200", codes)
	}
	owner := -1
	for i, u := range users {
		switch n := roomMembers(u, room); n {
		case 2:
			owner = i
		case -1:
		default:
			t.Fatalf("node %d holds the room with %d members: two rooms", i, n)
		}
	}
	if owner < 0 {
		t.Fatal("no node holds the room with both members")
	}
	names := []string{"a", "b"}
	lease := func() (holder string, acquired, expires int64) {
		t.Helper()
		if err := db.QueryRow(`SELECT holder, acquired_ms, expires_ms FROM room_leases WHERE room = $1`, room).Scan(&holder, &acquired, &expires); err != nil {
			t.Fatalf("lease of %s: %v", room, err)
		}
		return holder, acquired, expires
	}
	if h, _, _ := lease(); h != names[owner] {
		t.Fatalf("lease held by %s, the room by %s", h, names[owner])
	}
	if err := nodes[owner].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	survivor := 1 - owner
	var lastExpiry int64
	testwait.For(t, 20*time.Second, "the room on the survivor with its member", func() bool {
		// The room first, then the lease: a node holds a room only after
		// it took its lease, so a room seen held under the dead node's
		// lease read after it is two owners.
		members := roomMembers(users[survivor], room)
		h, acq, exp := lease()
		if h == names[owner] {
			lastExpiry = exp
			if members >= 0 {
				t.Fatalf("%s holds the room while %s's lease lives", names[survivor], names[owner])
			}
			return false
		}
		if h != names[survivor] || members != 1 {
			return false
		}
		if acq < lastExpiry {
			t.Fatalf("%s took the lease at %d, before %s's lapsed at %d", h, acq, names[owner], lastExpiry)
		}
		return true
	})
	if lastExpiry == 0 {
		t.Fatal("the dead node's lease was never seen")
	}
}
