package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flashvox/flashvox/softphone"
)

// clientFailover is where `flashvox client` goes when its server is lost
// (docs/CLUSTER.md "Failover"): the --server list, and the live nodes of
// the --cluster status URLs (GET /api/v1/cluster), asked again before
// every attempt.
type clientFailover struct {
	servers  []string // --server, split at commas
	cluster  []string // --cluster, split at commas
	attempts int      // --failover
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// maxClusterBody bounds the node list read from a status URL.
const maxClusterBody = 1 << 20

// live is the --server list followed by every node's RTMP URL that a
// --cluster status URL lists (the first that answers), with the
// application path of the first server ("/phone"); nil without --cluster
// or when none answers.
func (f clientFailover) live() []string {
	if len(f.cluster) == 0 {
		return nil
	}
	app := "/phone"
	if u, err := url.Parse(f.servers[0]); err == nil && u.Path != "" {
		app = u.Path
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, c := range f.cluster {
		nodes, ok := clusterRTMP(client, c)
		if !ok {
			continue
		}
		out := append([]string(nil), f.servers...)
		for _, n := range nodes {
			if s := strings.TrimRight(n, "/") + app; !contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// clusterRTMP is the rtmp_url of every node that statusURL lists.
func clusterRTMP(client *http.Client, statusURL string) ([]string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, statusURL, nil)
	if err != nil {
		return nil, false
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, false
	}
	defer res.Body.Close()
	var st struct {
		Nodes []struct {
			RTMP string `json:"rtmp"`
		} `json:"nodes"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(res.Body, maxClusterBody)).Decode(&st) != nil {
		return nil, false
	}
	var out []string
	for _, n := range st.Nodes {
		if strings.HasPrefix(n.RTMP, "rtmp://") {
			out = append(out, n.RTMP)
		}
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run runs one of the phone's verbs with failover.
func (f clientFailover) run(ctx context.Context, o softphone.Options, verb func(context.Context, softphone.Options) (*softphone.Result, error)) (*softphone.Result, error) {
	var refresh func() []string
	if len(f.cluster) > 0 {
		refresh = f.live
	}
	return softphone.Failover(ctx, o, f.servers, refresh, f.attempts, verb)
}
