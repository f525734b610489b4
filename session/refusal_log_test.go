package session

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/media"
)

// syncBuffer is a log sink safe for the session's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// One connection asking for 2 000 streams over max_streams gets 2 000
// refusals, all counted, and the log gets one line.
func TestStreamLimitFloodLogsOnce(t *testing.T) {
	const flood = 2000
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	refusals := ratelog.New(ratelog.Options{Logger: log})
	h := startSessionWith(t, Options{Hub: media.NewHub(16, nil), MaxStreams: 4, Apps: map[string]App{"live": Open()},
		Logger: log, Refusals: refusals})
	h.connect()
	for i := range 4 {
		h.createStream(float64(2 + i))
	}
	for i := range flood {
		h.send(cmd(t, 0, "createStream", float64(10+i), nil))
		h.expect("createStream _error", isCommand("_error"))
	}
	if n := refusals.Totals()["max_streams"]; n != flood {
		t.Errorf("max_streams refusals counted: %d, want %d", n, flood)
	}
	lines := strings.Count(logs.String(), "cause=max_streams")
	t.Logf("%d refused streams: %d log lines", flood, lines)
	if lines != 1 {
		t.Errorf("%d log lines for %d refusals, want 1:\n%s", lines, flood, logs.String())
	}
}
