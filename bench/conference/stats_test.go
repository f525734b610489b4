package main

import (
	"testing"
	"time"
)

// A listener's window counts frames missing from the timestamps and the
// stalls of a listener with a 30 ms playout buffer.
func TestReceiverWindow(t *testing.T) {
	base := time.Unix(1000, 0)
	rx := &receiver{}
	add := func(ts uint32, arriveMs int) {
		rx.arrival = append(rx.arrival, base.Add(time.Duration(arriveMs)*time.Millisecond).UnixMicro())
		rx.ts = append(rx.ts, ts)
	}
	for i := range 10 {
		add(uint32(i*20), i*20+1) // on pace
	}
	// ts 200 and 220 lost; 240 on time; 260 and every later frame arrive
	// 40 ms behind pace: one stall, then the listener plays on.
	add(240, 241)
	for i := 13; i < 20; i++ {
		add(uint32(i*20), i*20+41)
	}
	add(400, 430) // 29 ms behind the new pace: within the buffer
	st := rx.window(base, base.Add(time.Second), 30*time.Millisecond)
	if st.frames != 19 || st.missing != 2 || st.stalls != 1 {
		t.Errorf("got %+v, want 19 frames, 2 missing, 1 stall", st)
	}
	// Outside the window nothing counts.
	if st := rx.window(base.Add(time.Hour), base.Add(2*time.Hour), 30*time.Millisecond); st.frames != 0 {
		t.Errorf("empty window counted %+v", st)
	}
}

// The marker survives two Speex passes and its onset is found after the
// quiet part of the cycle, with the codec chain's delay under one frame
// plus the codec's lookahead (a wrong detector finds nothing or frames off).
func TestMarkerThroughSpeex(t *testing.T) {
	c, err := makeCycle(2 * slotFrames)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.codecDelay()
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 || d > 3*frameSamples {
		t.Errorf("codec chain delay %d samples, want 1..%d", d, 3*frameSamples)
	}
	var det onsetDetector
	quiet := make([]int16, frameSamples)
	loud := make([]int16, frameSamples)
	loud[17] = onsetLevel + 1
	if det.feed(loud) != -1 {
		t.Error("an onset without quiet before it")
	}
	for range quietFrames {
		det.feed(quiet)
	}
	if i := det.feed(loud); i != 17 {
		t.Errorf("onset at %d, want 17", i)
	}
}
