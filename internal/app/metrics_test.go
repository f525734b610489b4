package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// gathered returns reg's unlabelled samples by name.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// The conference counters on /metrics follow a mixed room's life.
func TestConferenceMetrics(t *testing.T) {
	hub := media.NewHub(64, slog.New(slog.DiscardHandler))
	confs := conference.New(conference.Options{Hub: hub, DefaultMode: conference.ModeMixed})
	defer confs.Close()
	reg := prometheus.NewRegistry()
	registerConferenceMetrics(reg, &confs.Stats)
	m := gathered(t, reg)
	for _, name := range []string{"rooms", "participants", "mixes_total", "mixer_skipped_frames_total", "input_underruns_total", "input_late_frames_total", "moves_refused_total"} {
		v, ok := m["flashvox_conference_"+name]
		if !ok || v != 0 {
			t.Errorf("flashvox_conference_%s = %v (exported %v) before any room, want 0", name, v, ok)
		}
	}
	a, _, err := confs.Join("board", conference.JoinOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := confs.Join("board", conference.JoinOptions{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "flashvox_conference_mixes_total above 0 in a mixed room", func() bool {
		m = gathered(t, reg)
		return m["flashvox_conference_mixes_total"] > 0
	})
	if m["flashvox_conference_rooms"] != 1 || m["flashvox_conference_participants"] != 2 {
		t.Errorf("rooms %v, participants %v; want 1 and 2", m["flashvox_conference_rooms"], m["flashvox_conference_participants"])
	}
	a.Leave()
	if m = gathered(t, reg); m["flashvox_conference_participants"] != 1 {
		t.Errorf("participants %v after a leave, want 1", m["flashvox_conference_participants"])
	}
}

// TestFDNeed: the descriptor headroom counts RTMP and HTTP connections and
// the RTP port range over a fixed reserve.
func TestFDNeed(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RTMP.MaxConnections, cfg.HTTP.MaxConnections, cfg.SIP.RTPPorts = 100, 50, "20000-20099"
	if got := fdNeed(cfg); got != 100+50+100+fdReserve {
		t.Fatalf("fdNeed = %d, want %d", got, 100+50+100+fdReserve)
	}
}
