package main

import (
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/rtmp"
)

// metricValue reads one series of the server's /metrics ("" if absent).
func metricValue(t *testing.T, s *server, series string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(httpGet(t, strings.TrimSuffix(s.api, "/api/v1")+"/metrics"))
	if m == nil {
		return ""
	}
	return m[1]
}

// logLines is how many lines the server has logged so far.
func logLines(s *server) int { return strings.Count(s.logs.String(), "\n") }

// TestPeerRefusalFloodLog: the real server under two floods of 2 000
// refused connections from one address — over rtmp.max_connections_per_ip,
// and connects to an application that does not exist — logs a handful of
// lines for each, and its metrics count every refusal.
func TestPeerRefusalFloodLog(t *testing.T) {
	testpeer.SkipShort(t, "real processes")
	const flood = 2000
	t.Run("max_connections_per_ip", func(t *testing.T) {
		s := startFlashvoxWith(t, []string{"FLASHVOX_RTMP_MAX_CONNECTIONS_PER_IP=1"})
		addr := strings.TrimSuffix(strings.TrimPrefix(s.phoneURL, "rtmp://"), "/phone")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		held, err := rtmp.Dial(ctx, "rtmp://"+addr+"/live", rtmp.ClientOptions{}) // the address's one connection
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		testwait.For(t, 5*time.Second, "the held connection counted", func() bool {
			return metricValue(t, s, "flashvox_rtmp_connections") == "1"
		})
		before := logLines(s)
		for range flood {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			io.Copy(io.Discard, nc) // until the server closes it
			nc.Close()
		}
		testwait.For(t, 5*time.Second, "2000 rejections counted", func() bool {
			return metricValue(t, s, "flashvox_rtmp_connections_rejected_total") == "2000"
		})
		lines := logLines(s) - before
		t.Logf("%d refused connections: %d log lines", flood, lines)
		if lines > 5 {
			t.Errorf("%d log lines for %d refused connections, want ≤ 5:\n%s", lines, flood, s.logs.String())
		}
	})
	t.Run("unknown_app", func(t *testing.T) {
		s := startFlashvox(t)
		url := strings.TrimSuffix(s.phoneURL, "/phone") + "/nosuchapp"
		before := logLines(s)
		for range flood {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{})
			cancel()
			if err == nil {
				c.Close()
				t.Fatal("a connect to an unknown application was accepted")
			}
		}
		testwait.For(t, 5*time.Second, "2000 refused connects counted", func() bool {
			return metricValue(t, s, `flashvox_session_refusals_total{cause="connect"}`) == "2000"
		})
		lines := logLines(s) - before
		t.Logf("%d refused connects: %d log lines", flood, lines)
		if lines > 5 {
			t.Errorf("%d log lines for %d refused connects, want ≤ 5", lines, flood)
		}
	})
}
