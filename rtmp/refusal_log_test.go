package rtmp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// logLines is a concurrency-safe log sink that reads back its lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// matching returns the lines matching re and the sum of their count=.
func (l *logLines) matching(re *regexp.Regexp) (lines int, count int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.Split(l.buf.Bytes(), []byte("\n")) {
		if !re.Match(line) {
			continue
		}
		lines++
		if m := regexp.MustCompile(`count=(\d+)`).FindSubmatch(line); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			count += n
		}
	}
	return lines, count
}

// A flood of 2 000 refused connections (over max_conns_per_ip, or failing
// the handshake) is counted in full in the metrics and logged in a handful
// of lines whose counts add up to the flood; before, every refusal was its
// own line.
func TestRefusalFloodLogs(t *testing.T) {
	const flood = 2000
	const interval = time.Second
	for _, c := range []struct {
		cause string
		hello []byte // what each flooding conn sends
		stat  func(ServerStats) uint64
	}{
		{"max_conns_per_ip", nil, func(st ServerStats) uint64 { return st.Rejected }},
		{"handshake", bytes.Repeat([]byte{9}, 1537), func(st ServerStats) uint64 { return st.HandshakeFailures }},
	} {
		t.Run(c.cause, func(t *testing.T) {
			var logs logLines
			ts := startServer(t, ConnConfig{}, echoHandler{}, func(s *Server) {
				if c.hello == nil {
					s.MaxConnsPerIP = 1
				}
				s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				s.LogInterval = interval
			})
			addr := ts.url[len("rtmp://") : len(ts.url)-len("/live")]
			if c.cause == "max_conns_per_ip" {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				a, err := Dial(ctx, ts.url, ClientOptions{}) // the one this address may have
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
			}
			start := time.Now()
			for range flood {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				nc.SetDeadline(time.Now().Add(5 * time.Second))
				if c.hello != nil {
					nc.Write(c.hello)
				}
				io.Copy(io.Discard, nc) // until the server closes it
				nc.Close()
			}
			took := time.Since(start)
			re := regexp.MustCompile(`cause=` + c.cause + `\b`)
			testwait.For(t, 5*time.Second, "the counts of the log lines adding up to the flood", func() bool {
				_, n := logs.matching(re)
				return n == flood
			})
			lines, _ := logs.matching(re)
			got := c.stat(ts.srv.Stats())
			t.Logf("%d refusals (%s) in %v: metric %d, %d log lines", flood, c.cause, took.Round(time.Millisecond), got, lines)
			if got != flood {
				t.Errorf("metric counts %d refusals, want %d", got, flood)
			}
			// One line at the first refusal, one per interval after it.
			if budget := 2 + int(took/interval); lines > budget {
				t.Errorf("%d log lines for %d refusals in %v, want ≤ %d", lines, flood, took, budget)
			}
		})
	}
}
