package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestPeerClusterPlacement: node a has redirect_above 1 and two RTMP
// phones connected; node b announces its page URL and RTMFP address. A
// load of a's page is answered 307 to b's page (the query kept; assets
// and /page.json are still served by a); an RTMFP phone that connects to
// a is redirected in the handshake and signs in on b. Once a is back
// under its mark, it serves its page and RTMFP itself.
func TestPeerClusterPlacement(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	aUDP, bUDP, bHTTP := freeAddr(t), freeAddr(t), freeAddr(t)
	a := startClusterNode(t, "a", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[0], "FLASHVOX_CLUSTER_REDIRECT_ABOVE=1", "FLASHVOX_RTMFP_LISTEN="+aUDP)
	b := startClusterNode(t, "b", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[1], "FLASHVOX_RTMFP_LISTEN="+bUDP, "FLASHVOX_HTTP_LISTEN="+bHTTP,
		"FLASHVOX_CLUSTER_HTTP_URL=http://"+bHTTP, "FLASHVOX_CLUSTER_RTMFP_ADDR="+bUDP)
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	aHTTP := strings.TrimSuffix(strings.TrimPrefix(a.api, "http://"), "/api/v1")
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string) (int, string) {
		res, err := noFollow.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	// Under its mark, a serves its page.
	if code, _ := get("http://" + aHTTP + "/"); code != http.StatusOK {
		t.Fatalf("a under its mark: page %d", code)
	}
	p1 := a.phone(t, "alice", "answer", "--timeout", "60s")
	p2 := a.phone(t, "carol", "answer", "--timeout", "60s")
	defer p1.cmd.Process.Kill()
	defer p2.cmd.Process.Kill()
	testwait.For(t, 15*time.Second, "a above its mark (a 307 for its page)", func() bool {
		code, loc := get("http://" + aHTTP + "/?user=bob")
		return code == http.StatusTemporaryRedirect && loc == "http://"+bHTTP+"/?user=bob"
	})
	if code, _ := get("http://" + aHTTP + "/page.json"); code != http.StatusOK {
		t.Fatalf("a's /page.json must be served there: %d", code)
	}
	// An RTMFP phone to a lands on b.
	aRTMFP := *a
	aRTMFP.phoneURL = "rtmfp://" + aUDP + "/phone"
	bob := aRTMFP.phone(t, "bob", "answer", "--timeout", "60s")
	defer bob.cmd.Process.Kill()
	waitUsersOn(t, a, "b", 1)
	// bob's RTMFP session counts in b's load as a connection.
	testwait.For(t, 10*time.Second, "b's load to count bob's RTMFP session", func() bool {
		return strings.Contains(httpGet(t, b.api+"/cluster"), `"node":"b","started"`) &&
			strings.Contains(httpGet(t, "http://"+bHTTP+"/metrics"), `flashvox_cluster_node_load{node="b",what="connections"} 1`)
	})
	m := httpGet(t, "http://"+aHTTP+"/metrics")
	if strings.Contains(m, "flashvox_rtmfp_placed_total 0\n") || !strings.Contains(m, "flashvox_rtmfp_placed_total") {
		t.Fatalf("a's metrics show no RTMFP placement")
	}
	// Back under its mark, a serves its page again.
	p1.cmd.Process.Kill()
	p2.cmd.Process.Kill()
	testwait.For(t, 15*time.Second, "a under its mark again", func() bool {
		code, _ := get("http://" + aHTTP + "/")
		return code == http.StatusOK
	})
}

// TestPeerClusterPlacementByPages: node a (redirect_above 1) has no
// phone, only two users signed in over the HTTP API (as pages are): they
// count as its page users, and a's page load is answered 307 to b's.
func TestPeerClusterPlacementByPages(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	routes := []string{"127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t)), "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))}
	yaml := fmt.Sprintf("cluster:\n  routes: [%s]\n", strings.Join(routes, ", "))
	bHTTP := freeAddr(t)
	a := startClusterNode(t, "a", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[0], "FLASHVOX_CLUSTER_REDIRECT_ABOVE=1")
	b := startClusterNode(t, "b", yaml, "FLASHVOX_CLUSTER_LISTEN="+routes[1], "FLASHVOX_HTTP_LISTEN="+bHTTP, "FLASHVOX_CLUSTER_HTTP_URL=http://"+bHTTP)
	for _, s := range []*server{a, b} {
		testwait.For(t, 15*time.Second, "both nodes in /api/v1/cluster", func() bool { return strings.Join(clusterNodes(t, s), ",") == "a,b" })
	}
	aPage := strings.TrimSuffix(a.api, "/api/v1") + "/"
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func() (int, string) {
		res, err := noFollow.Get(aPage)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	a.login(t, "alice")
	testwait.For(t, 10*time.Second, "a's load to count alice's page", func() bool { return loadOf(t, a, "a").Pages == 1 })
	if code, _ := page(); code != http.StatusOK {
		t.Fatalf("a with one page user (its mark: 1): page %d, want 200", code)
	}
	a.login(t, "carol")
	testwait.For(t, 10*time.Second, "a above its mark by its page users (a 307 to b)", func() bool {
		code, loc := page()
		return code == http.StatusTemporaryRedirect && loc == "http://"+bHTTP+"/"
	})
	// b hears it with a's next heartbeat.
	testwait.ForDetail(t, 5*time.Second, "b to hear a's load: no connection, two page users", func() bool {
		return loadOf(t, b, "a") == nodeLoad{Pages: 2, Users: 2}
	}, func() string { return fmt.Sprintf("a's load as b hears it: %+v", loadOf(t, b, "a")) })
}
