package flv

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// flvBytes writes tags into an FLV file image.
func flvBytes(t testing.TB, tags []Tag) []byte {
	var b bytes.Buffer
	w, err := NewWriter(&b, Tracks{Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var seedTags = [][]Tag{
	nil,
	{{Type: TagAudio, Timestamp: 0, Data: []byte{0x42, 1, 2, 3}}},
	{{Type: TagScript, Data: []byte{2, 0, 1, 'x'}}, {Type: TagAudio, Timestamp: 16, Data: []byte{0x82, 0xff}}, {Type: TagVideo, Timestamp: 1 << 24, Data: nil}},
	{{Type: TagAudio, Timestamp: 0xfffffffe, Data: bytes.Repeat([]byte{0xb2}, 300)}},
}

func TestFLVRoundTrip(t *testing.T) {
	for i, tags := range seedTags {
		got, err := Parse(flvBytes(t, tags))
		if err != nil || !equalTags(got, tags) {
			t.Fatalf("case %d: %v %+v", i, err, got)
		}
	}
}

func TestFLVDamage(t *testing.T) {
	whole := flvBytes(t, seedTags[2])
	for cut := 13; cut < len(whole); cut++ {
		_, err := Parse(whole[:cut])
		// Whole: cut at a tag boundary, or only a PreviousTagSize missing.
		whole := isTagBoundary(whole, cut) || isTagBoundary(whole, cut+4)
		if whole != (err == nil) || (err != nil && !errors.Is(err, ErrDamaged)) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	bad := slices.Clone(whole)
	bad[13] = 3 // tag type 3
	if _, err := Parse(bad); !errors.Is(err, ErrDamaged) {
		t.Fatalf("bad type: %v", err)
	}
	if _, err := Parse([]byte("RIFF....WAVE")); !errors.Is(err, ErrNotFLV) {
		t.Fatalf("not FLV: %v", err)
	}
}

// isTagBoundary reports whether cut falls just after a PreviousTagSize.
func isTagBoundary(b []byte, cut int) bool {
	r, _ := NewReader(bytes.NewReader(b))
	for r.off < int64(len(b)) {
		if r.off == int64(cut) {
			return true
		}
		if _, err := r.Next(); err != nil {
			return false
		}
	}
	return r.off == int64(cut)
}

func equalTags(a, b []Tag) bool {
	return slices.EqualFunc(a, b, func(x, y Tag) bool {
		return x.Type == y.Type && x.Timestamp == y.Timestamp && bytes.Equal(x.Data, y.Data)
	})
}

// FuzzParseFLV: any input parses or errors without panicking, and what
// parses writes back to bytes that parse to the same tags.
func FuzzParseFLV(f *testing.F) {
	for _, tags := range seedTags {
		f.Add(flvBytes(f, tags))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(flvBytes(t, tags))
		if err != nil || !equalTags(tags, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
