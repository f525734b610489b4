package main

import (
	"strings"
	"testing"
	"time"
)

func TestTrackStats(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tr := newTrack("relay", "x", frameDur)
	// 20 ms frames; ts 100 is missing (1 lost) and arrives 150 ms after the
	// previous frame (1 gap); the last frame comes 30 ms late.
	at := []int{0, 20, 40, 60, 80, 230, 240, 290}
	ts := []uint32{0, 20, 40, 60, 80, 120, 140, 160}
	for i := range at {
		tr.add(t0.Add(time.Duration(at[i])*time.Millisecond), ts[i], time.Time{})
	}
	st := tr.stats()
	if st.frames != 8 || st.lost != 1 || st.gaps != 1 {
		t.Errorf("frames %d lost %d gaps %d, want 8 1 1", st.frames, st.lost, st.gaps)
	}
	if st.markers {
		t.Error("markers without send times")
	}
	if got := pct(st.lat, 1); got != 130*time.Millisecond {
		t.Errorf("worst added delay %v, want 130ms (frame ts 160 at 290 ms, best offset 0)", got)
	}
	tr.fail("gone")
	tr.fail("later")
	if st := tr.stats(); st.broken != "gone" {
		t.Errorf("broken %q, want the first reason", st.broken)
	}
}

func TestAddedDelaySliding(t *testing.T) {
	t0 := time.Unix(0, 0)
	// Offsets 0 for 20 s, then a permanent shift to 500 ms (a mixer that
	// skipped frames): added delay is 500 ms only until the window forgets
	// the old offsets.
	var arrival []time.Time
	var offs []time.Duration
	for i := range 2000 {
		arrival = append(arrival, t0.Add(time.Duration(i)*20*time.Millisecond))
		o := time.Duration(0)
		if i >= 1000 {
			o = 500 * time.Millisecond
		}
		offs = append(offs, o)
	}
	d := addedDelay(arrival, offs, 10*time.Second)
	if d[999] != 0 || d[1000] != 500*time.Millisecond || d[1999] != 0 {
		t.Errorf("added delay %v %v %v, want 0 500ms 0", d[999], d[1000], d[1999])
	}
}

func TestMarker(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	if got := markerSent(marker(now)); !got.Equal(now) {
		t.Errorf("marker round trip %v, want %v", got, now)
	}
	if !markerSent([]byte{0x42, 1, 2}).IsZero() {
		t.Error("a Nellymoser tag read as a marker")
	}
}

func TestChart(t *testing.T) {
	var at []time.Duration
	var v []float64
	for i := range 60 {
		at = append(at, time.Duration(i)*time.Second)
		v = append(v, float64(20+i%7))
	}
	c := chart("rss", "MiB", at, v, 20*time.Second, 40*time.Second, 30, 5)
	if lines := strings.Count(c, "\n"); lines != 9 {
		t.Errorf("%d lines, want 9:\n%s", lines, c)
	}
	if !strings.Contains(c, "^") || !strings.Contains(c, "26.0") {
		t.Errorf("no hostile marks or no max label:\n%s", c)
	}
}
