package conference

import (
	"log/slog"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// TestSharedSwitchesStayClean: alice listens, then her input comes and
// goes (talk spurts, jitter), while carol, silent throughout, keeps the
// shared encoder going on the full mix. What alice hears must be bob's tone
// at its own level with nothing new around it. When members moved between
// their own encoder and the shared one at every gap, her decoder rang:
// bob's −18 dB tone came out at −5 dB and up to full scale, and resetting
// the encoders at each switch did not stop it (shared.go).
func TestSharedSwitchesStayClean(t *testing.T) {
	patterns := []struct {
		name       string
		gap, spurt int  // the most mixes of silence and of talk in a row (random lengths from 1)
		bobPauses  bool // bob is silent 300 ms of every second: the room goes quiet
		returns    bool // alice, silent in a quiet room, goes back to the shared encoder (Speex)
	}{
		{"never talks", 0, 1, false, false},
		{"silent, then talking", 50, 400, false, false},
		{"jitter: gaps of 1-3 mixes", 3, 8, false, false},
		{"talk spurts and pauses", 40, 40, false, false},
		{"short spurts, long pauses", 30, 5, false, false},
		{"talk spurts, the room quiet now and then", 40, 40, true, true},
		{"jitter, the room quiet now and then", 3, 8, true, false}, // talking, she never settles
	}
	for _, c := range []struct {
		name string
		id   codec.ID
	}{{"speex", codec.Speex}, {"g722", codec.G722}} {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range patterns {
				bobDB, aliceDB, shared, returns := sharedSwitches(t, c.id, p.gap, p.spurt, p.bobPauses)
				t.Logf("%s: %d mixes from the shared encoder, %d returns to it; bob's 700 Hz %.1f dB, her 430 Hz %.1f dB", p.name, shared, returns, bobDB, aliceDB)
				if bobDB < -19 || bobDB > -17 || bobDB-aliceDB < 40 {
					t.Errorf("%s (%d mixes shared): alice hears bob's −18 dB tone at %.1f dB, her own frequency at %.1f dB",
						p.name, shared, bobDB, aliceDB)
				}
				// G.722 (ADPCM) never settles on one packet of silence: its
				// members keep their own encoder once they talked.
				if p.returns && c.id == codec.Speex && returns == 0 {
					t.Errorf("%s: alice never went back to the shared encoder in the room's quiet spells", p.name)
				}
			}
		})
	}
}

// sharedSwitches runs 4 s of mixes the way mixer.tick encodes them, alice
// talking and pausing for random lengths of up to spurt and gap mixes, and
// returns the levels of bob's tone and alice's in her decoded last 2 s,
// how many of her mixes the shared encoder made and how often she went
// back to it from her own.
func sharedSwitches(t *testing.T, id codec.ID, gap, spurt int, bobPauses bool) (bobDB, aliceDB float64, shared, returns int) {
	h := media.NewHub(1024, slog.New(slog.DiscardHandler))
	var frames []*media.Frame // written on this goroutine: the hub calls a ReceiverFunc in Write
	sub := h.Subscribe("alice.mix", media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindAudio {
			frames = append(frames, f)
		}
	}))
	defer sub.Close()
	var sm sharedMix
	sm.complexity = DefaultSpeexComplexity
	defer sm.close()
	outs := make([]*output, 2) // alice, carol
	for i, key := range []string{"alice.mix", "carol.mix"} {
		o := &output{complexity: DefaultSpeexComplexity}
		o.want(id, MixRate)
		pub, err := h.Publish(key)
		if err != nil {
			t.Fatal(err)
		}
		o.pub = pub
		outs[i] = o
	}
	const seconds = 4
	bob := audiotest.Sine(MixRate, seconds*MixRate, 700, 0.125)
	if bobPauses {
		for i := range bob {
			if i%MixRate >= MixRate*7/10 {
				bob[i] = 0
			}
		}
	}
	alice := audiotest.Sine(MixRate, seconds*MixRate, 430, 0.125)
	full := make([]int16, FrameSamples)
	noLog := func(id codec.ID, err error) { t.Errorf("%v: %v", id, err) }
	seed := uint32(1)
	random := func(n int) int { seed = seed*1664525 + 1013904223; return 1 + int(seed>>16)%n }
	silent, left := true, random(gap+1) // she listens first
	for tick := uint32(0); int(tick+1)*FrameSamples <= len(bob); tick++ {
		if left--; left == 0 && gap > 0 {
			if silent, left = !silent, random(spurt); silent {
				left = random(gap)
			}
		}
		at := int(tick) * FrameSamples
		for i := range full {
			full[i] = bob[at+i]
			if !silent {
				full[i] += alice[at+i]
			}
		}
		sm.begin(tick)
		now := tick * frameMillis
		before, wasOwn := outs[0].samples, outs[0].own
		outs[0].mix(&sm, bob[at:at+FrameSamples], silent, now, noLog) // everyone but alice: bob
		if !outs[0].own && outs[0].samples > before {
			shared++
			if wasOwn {
				returns++
			}
		}
		outs[1].mix(&sm, full, true, now, noLog)
	}
	for _, o := range outs {
		o.close()
	}
	dec, err := codecs.NewDecoder(id, MixRate)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCodec(dec)
	var pcm []int16
	for _, f := range frames {
		if pcm, err = dec.Decode(pcm, f.Payload); err != nil {
			t.Fatalf("%v: decode alice's mix: %v", id, err)
		}
	}
	if len(pcm) < seconds*MixRate*9/10 {
		t.Fatalf("%v: alice heard %d samples of %d", id, len(pcm), seconds*MixRate)
	}
	tail := pcm[len(pcm)-2*MixRate:]
	return audiotest.MedianToneDB(tail, MixRate, 700), audiotest.MedianToneDB(tail, MixRate, 430), shared, returns
}
