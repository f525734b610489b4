package nellymoser

import "testing"

func TestConceal(t *testing.T) {
	in := testSignals[1].gen(16000, 16*FrameSamples)
	blocks := encodeAll(t, NewEncoder(16000), in)
	d := NewDecoder(16000)
	var out []int16
	for _, b := range blocks[:8] {
		out, _ = d.Decode(out, b)
	}
	level := rms(out[4*FrameSamples:])
	var lost []int16
	for range concealSilence + 2 {
		n := len(lost)
		lost = d.Conceal(lost)
		if len(lost)-n != FrameSamples {
			t.Fatalf("Conceal appended %d samples", len(lost)-n)
		}
	}
	first, last := rms(lost[:FrameSamples]), rms(lost[len(lost)-FrameSamples:])
	t.Logf("signal RMS %.0f, first concealed block %.0f, last %.0f", level, first, last)
	if first > level || first < level/20 {
		t.Errorf("first concealed block RMS %.0f vs signal %.0f", first, level)
	}
	if last != 0 {
		t.Errorf("concealment does not fade to silence: RMS %.1f", last)
	}
	// Decoding resumes normally after a loss.
	out, err := d.Decode(nil, blocks[8])
	if err != nil || len(out) != FrameSamples {
		t.Fatalf("decode after loss: %d samples, err %v", len(out), err)
	}
}
