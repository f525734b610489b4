package main

import (
	"strconv"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

// framesIn is how many frames p publishers produce in window, one every
// frameEvery each (the lean load's pace and the tone FLV's: 256 samples
// of Nellymoser at 16 kHz).
func framesIn(p int, window time.Duration) float64 {
	return float64(p) * float64(window) / float64(frameEvery)
}

// perFrame formats a window's context switches (the server's sleeps, its
// preemptions: mostly a player it has just woken taking its CPU) per
// published frame.
func perFrame(s proc.Switches, p int, window time.Duration) string {
	f := framesIn(p, window)
	if f <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(s.Voluntary)/f, 'f', 1, 64) + " + " +
		strconv.FormatFloat(float64(s.Involuntary)/f, 'f', 1, 64)
}
