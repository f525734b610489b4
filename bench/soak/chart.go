package main

import (
	"fmt"
	"strings"
	"time"
)

// chart draws v (one value per sample, times at) as an ASCII area chart of
// the given width and height, with the y range and the time axis, marking
// the hostile window with '^' under the axis.
func chart(title, unit string, at []time.Duration, v []float64, hostileFrom, hostileTo time.Duration, width, height int) string {
	if len(v) == 0 {
		return title + ": no samples\n"
	}
	end := at[len(at)-1]
	cols := make([]float64, width)
	seen := make([]bool, width)
	for i, x := range v {
		c := int(float64(at[i]) / float64(end+1) * float64(width))
		c = min(max(c, 0), width-1)
		if !seen[c] || x > cols[c] {
			cols[c], seen[c] = x, true
		}
	}
	for c := range cols { // carry the last value over empty columns
		if !seen[c] && c > 0 {
			cols[c] = cols[c-1]
		}
	}
	lo, hi := cols[0], cols[0]
	for _, x := range cols {
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s), %.1f – %.1f\n", title, unit, lo, hi)
	for r := height; r >= 1; r-- {
		level := lo + (hi-lo)*(float64(r)-0.5)/float64(height)
		label := ""
		if r == height {
			label = fmt.Sprintf("%.1f", hi)
		} else if r == 1 {
			label = fmt.Sprintf("%.1f", lo)
		}
		fmt.Fprintf(&b, "%8s |", label)
		for _, x := range cols {
			if x >= level {
				b.WriteByte('#')
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%8s +%s\n", "", strings.Repeat("-", width))
	mark := make([]byte, width)
	for c := range mark {
		t := time.Duration(float64(end) * (float64(c) + 0.5) / float64(width))
		mark[c] = ' '
		if t >= hostileFrom && t < hostileTo {
			mark[c] = '^'
		}
	}
	fmt.Fprintf(&b, "%8s  %s\n", "", strings.TrimRight(string(mark), " "))
	fmt.Fprintf(&b, "%8s  0 s%s%.0f s   (^ = hostile clients running)\n", "", strings.Repeat(" ", max(width-10, 1)), end.Seconds())
	return b.String()
}
