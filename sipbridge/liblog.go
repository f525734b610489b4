package sipbridge

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dmedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// The SIP libraries log through slog: sipgo (sip.DefaultLogger, its
// transport layer, server and client), diago (its logger and
// media.DefaultLogger, the RTP/RTCP sessions). Left alone, their default
// is slog.Default, which writes to stderr outside our log format; a
// SIP message that does not parse is logged with its bytes (binary
// included), and every malformed RTCP packet from a peer is one ERROR
// line (~185 per linphone call). libHandler is what they get
// instead: our logger, with
//   - malformed RTCP counted in Stats.RTCPMalformed, never logged per packet;
//   - unparsable SIP counted in Stats.SIPMalformed and logged at Debug
//     with its length, not its bytes;
//   - connection read errors (peers closing, idle timeouts) at Debug;
//   - every message at most libLogBurst times per libLogEvery, then
//     counted in Stats.LogSuppressed and reported with the next line.

const (
	libLogBurst = 5
	libLogEvery = time.Minute
)

type libHandler struct {
	h     slog.Handler
	stats *Stats
	lim   *logLimiter
}

func newLibHandler(l *slog.Logger, st *Stats) *libHandler {
	return &libHandler{h: l.Handler(), stats: st, lim: &logLimiter{seen: map[string]*logCount{}}}
}

// The libraries' default loggers are package variables read without
// synchronisation (sip.DefaultLogger, media.DefaultLogger): they are set
// once per process, to libSwitch, which sends each record to the libHandler
// of the last Bridge started (libCurrent, atomic).
var (
	libCurrent atomic.Pointer[libHandler]
	libOnce    sync.Once
)

// useLibDefaults makes h the libraries' default log handler.
func useLibDefaults(h *libHandler) {
	libCurrent.Store(h)
	libOnce.Do(func() {
		l := slog.New(libSwitch{})
		sip.SetDefaultLogger(l)
		dmedia.SetDefaultLogger(l)
	})
}

// libSwitch is a handler that forwards to libCurrent, replaying the
// attributes and groups it was derived with.
type libSwitch struct {
	ops []func(slog.Handler) slog.Handler
}

func (s libSwitch) target() slog.Handler {
	var h slog.Handler = libCurrent.Load()
	if h == (*libHandler)(nil) {
		return slog.DiscardHandler
	}
	for _, op := range s.ops {
		h = op(h)
	}
	return h
}

func (s libSwitch) Enabled(ctx context.Context, l slog.Level) bool { return s.target().Enabled(ctx, l) }

func (s libSwitch) Handle(ctx context.Context, r slog.Record) error { return s.target().Handle(ctx, r) }

func (s libSwitch) WithAttrs(as []slog.Attr) slog.Handler {
	return libSwitch{ops: append(slices.Clone(s.ops), func(h slog.Handler) slog.Handler { return h.WithAttrs(as) })}
}

func (s libSwitch) WithGroup(name string) slog.Handler {
	return libSwitch{ops: append(slices.Clone(s.ops), func(h slog.Handler) slog.Handler { return h.WithGroup(name) })}
}

// Enabled is true for warnings and errors even when our logger would
// drop them: they may be counted.
func (h *libHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.h.Enabled(ctx, l)
}

func (h *libHandler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case strings.HasPrefix(r.Message, "RTCP Unmarshal error"):
		h.stats.RTCPMalformed.Add(1)
		return nil
	case r.Message == "failed to parse":
		h.stats.SIPMalformed.Add(1)
		nr := slog.NewRecord(r.Time, slog.LevelDebug, "sip message not parsed", r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "data" {
				a = slog.Int("bytes", len(a.Value.String()))
			}
			nr.AddAttrs(a)
			return true
		})
		r = nr
	case r.Message == "Read error" || r.Message == "Read connection error" || r.Message == "Got TCP error" ||
		r.Message == "Read filter error": // unsafe SDP dropped (sdpguard.go), counted
		r.Level = slog.LevelDebug
	}
	if !h.h.Enabled(ctx, r.Level) {
		return nil
	}
	n, ok := h.lim.allow(r.Message, r.Time)
	if !ok {
		h.stats.LogSuppressed.Add(1)
		return nil
	}
	if n > 0 {
		r.AddAttrs(slog.Int("suppressed_before", n))
	}
	return h.h.Handle(ctx, r)
}

func (h *libHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &libHandler{h: h.h.WithAttrs(as), stats: h.stats, lim: h.lim}
}

func (h *libHandler) WithGroup(name string) slog.Handler {
	return &libHandler{h: h.h.WithGroup(name), stats: h.stats, lim: h.lim}
}

// logLimiter lets each message through libLogBurst times per
// libLogEvery window and counts the rest.
type logLimiter struct {
	mu   sync.Mutex
	seen map[string]*logCount
}

type logCount struct {
	start      time.Time
	n, dropped int
}

// allow reports whether msg may be logged at now, and how many of it were
// dropped since the last one logged.
func (l *logLimiter) allow(msg string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.seen[msg]
	if c == nil {
		if len(l.seen) > 1000 { // messages are the libraries' constants; bound it anyway
			clear(l.seen)
		}
		c = &logCount{start: now}
		l.seen[msg] = c
	}
	if now.Sub(c.start) >= libLogEvery {
		c.start, c.n = now, 0
	}
	if c.n >= libLogBurst {
		c.dropped++
		return 0, false
	}
	c.n++
	d := c.dropped
	c.dropped = 0
	return d, true
}
