package softphone

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func wavBytes(pcm []int16, rate, channels int) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(2*rate*channels))
	b = binary.LittleEndian.AppendUint16(b, uint16(2*channels))
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*len(pcm)))
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestWAVRoundTripAndResample(t *testing.T) {
	dir := t.TempDir()
	pcm := []int16{0, 1, -1, 32767, -32768, 5}
	p := filepath.Join(dir, "a.wav")
	if err := WriteWAV(p, pcm); err != nil {
		t.Fatal(err)
	}
	got, err := ReadWAV(p)
	if err != nil || !slices.Equal(got, pcm) {
		t.Fatalf("%v %v", got, err)
	}
	p8 := filepath.Join(dir, "b.wav")
	os.WriteFile(p8, wavBytes(make([]int16, 8000), 8000, 1), 0o644)
	if got, err := ReadWAV(p8); err != nil || len(got) != 16000 {
		t.Fatalf("8 kHz to 16 kHz: %d samples, %v", len(got), err)
	}
	stereo := filepath.Join(dir, "c.wav")
	os.WriteFile(stereo, wavBytes([]int16{1, 2, 3, 4}, 16000, 2), 0o644)
	if got, err := ReadWAV(stereo); err != nil || !slices.Equal(got, []int16{1, 3}) {
		t.Fatalf("stereo mixed down: %v %v", got, err)
	}
}
