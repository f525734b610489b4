package main

import (
	"fmt"
	"slices"
	"strings"
)

// roundsSummary collects the flashvox / nginx-rtmp ratios of every round
// (-rounds), the figures BENCHMARKS.md quotes.
type roundsSummary struct {
	lean, players, bytes []float64
}

func (s *roundsSummary) add(r *round) {
	fv, ng := -1, -1
	for i, n := range r.names {
		switch n {
		case "flashvox":
			fv = i
		case "nginx-rtmp":
			ng = i
		}
	}
	if fv < 0 || ng < 0 {
		return
	}
	if a, b := r.runs[fv].load, r.runs[ng].load; a != nil && b != nil && b.serverCPU > 0 {
		s.lean = append(s.lean, a.serverCPU.Seconds()/b.serverCPU.Seconds())
	}
	if a, b := r.players[fv], r.players[ng]; a != nil && b != nil && b.serverCPU > 0 && b.bytes > 0 {
		s.players = append(s.players, a.serverCPU.Seconds()/b.serverCPU.Seconds())
		s.bytes = append(s.bytes, float64(a.bytes)/float64(b.bytes))
	}
}

func (s *roundsSummary) String() string {
	var b strings.Builder
	b.WriteString("\n## Every round, flashvox / nginx-rtmp\n\n")
	line := func(label string, v []float64, verb string) {
		if len(v) == 0 {
			return
		}
		fmt.Fprintf(&b, "- %s:", label)
		for _, x := range v {
			fmt.Fprintf(&b, " "+verb, x)
		}
		fmt.Fprintf(&b, " (median "+verb+")\n", median(v))
	}
	line("lean load, server CPU", s.lean, "%.2f×")
	line("real players, server CPU", s.players, "%.2f×")
	line("real players, bytes delivered", s.bytes, "%.3f")
	return b.String()
}

// median of v (v is not modified); 0 when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := slices.Clone(v)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
