package audiotest

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// SpanToneDB is the level of freq in pcm as the mean power of its level
// (ToneDB) in each half second. A conference mixer's jitter buffer drops
// or repeats a few samples now and then, and a tone's phase jumps there:
// one transform over seconds can then see a steady tone cancel itself (a
// 660 Hz tone at -14 dB in every half second read -20.8 dB over 2.8 s,
// and once -43.5 dB), while each half second sees it whole. Shorter than
// half a second, pcm is measured in one piece.
func SpanToneDB(pcm []int16, rate int, freq float64) float64 {
	levels := spanLevels(pcm, rate, freq)
	if len(levels) == 0 {
		return ToneDB(pcm, rate, freq)
	}
	var sum float64
	for _, db := range levels {
		sum += math.Pow(10, db/10)
	}
	return 10 * math.Log10(sum/float64(len(levels))+1e-60)
}

// spanLevels is freq's level (ToneDB) in each whole half second of pcm.
func spanLevels(pcm []int16, rate int, freq float64) []float64 {
	span := rate / 2
	var levels []float64
	for i := 0; span > 0 && i+span <= len(pcm); i += span {
		levels = append(levels, ToneDB(pcm[i:i+span], rate, freq))
	}
	return levels
}

// tonesBySpan is freq's level in each half second of pcm, to tell a tone
// missing throughout from one that came and went.
func tonesBySpan(pcm []int16, rate int, freq float64) string {
	var b strings.Builder
	for _, db := range spanLevels(pcm, rate, freq) {
		fmt.Fprintf(&b, " %.0f", db)
	}
	return strings.TrimSpace(b.String()) + " dB"
}

// HearsOthers checks that pcm, what who heard, holds every tone of others
// at -40 dB or more (SpanToneDB) and own at least 30 dB below the
// quietest of them: a mix of everyone but oneself.
func HearsOthers(t testing.TB, who string, pcm []int16, rate int, own float64, others ...float64) {
	t.Helper()
	ownDB := SpanToneDB(pcm, rate, own)
	quietest := 0.0
	var b strings.Builder
	for _, f := range others {
		db := SpanToneDB(pcm, rate, f)
		quietest = min(quietest, db)
		fmt.Fprintf(&b, " %.0f Hz %.1f dB,", f, db)
		if db < -40 {
			t.Errorf("%s: %.0f Hz at %.1f dB: not heard (by half second: %s)", who, f, db, tonesBySpan(pcm, rate, f))
		}
	}
	t.Logf("%s:%s own %.0f Hz %.1f dB (%.1f dB below the quietest)", who, b.String(), own, ownDB, quietest-ownDB)
	if quietest-ownDB < 30 {
		t.Errorf("%s: own tone %.0f Hz at %.1f dB, only %.1f dB below the others", who, own, ownDB, quietest-ownDB)
	}
}
