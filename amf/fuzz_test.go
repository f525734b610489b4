package amf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite testdata/fuzz seed corpus from the test vectors")

func amf0Seeds(t testing.TB) [][]byte {
	var s [][]byte
	for _, tc := range amf0Vectors {
		s = append(s, tc.wire)
	}
	for _, tc := range amf0BadInputs {
		s = append(s, tc.wire)
	}
	for _, c := range ffmpegCaptures {
		s = append(s, readTestdata(t, c.file))
	}
	for _, tc := range amf3Vectors {
		s = append(s, append([]byte{0x11}, tc.wire...))
	}
	return s
}

func amf3Seeds() [][]byte {
	var s [][]byte
	for _, tc := range amf3Vectors {
		s = append(s, tc.wire)
	}
	for _, tc := range amf3BadInputs {
		s = append(s, tc.wire)
	}
	return s
}

// roundTrip asserts decode→encode→decode stability: the re-decoded values
// equal the first ones, and encoding them again gives the same bytes.
func roundTrip(t *testing.T, in []byte, decode func([]byte) ([]any, error), encode func(*encoder, []any) ([]byte, error)) {
	v1, err := decode(in)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("decode error %T is not *DecodeError: %v", err, err)
		}
		return
	}
	// Shared references that cannot be expressed again (AMF3 values
	// behind separate avmplus switches, AMF0 strings) may grow the output;
	// bound it so that the fuzzer explores rather than allocates.
	b2, err := encode(&encoder{maxOut: 1<<20 + 64*len(in)}, v1)
	if errors.Is(err, ErrTooDeep) || errors.Is(err, ErrValueTooLarge) {
		return
	}
	if err != nil {
		t.Fatalf("encode of decoded %#v: %v", v1, err)
	}
	v2, err := decode(b2)
	if err != nil {
		t.Fatalf("decode of re-encoded % x: %v", b2, err)
	}
	if !equalValues(v1, v2) {
		t.Fatalf("round trip changed values:\n1st %#v\n2nd %#v", v1, v2)
	}
	b3, err := encode(&encoder{}, v2)
	if err != nil || !bytes.Equal(b2, b3) {
		t.Fatalf("second encode differs (%v):\n% x\n% x", err, b2, b3)
	}
}

func FuzzDecode0(f *testing.F) {
	for _, s := range amf0Seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := diffGortmplib(in); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, in, Decode0, (*encoder).encode0All)
	})
}

func FuzzDecode3(f *testing.F) {
	for _, s := range amf3Seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		roundTrip(t, in, Decode3, (*encoder).encode3All)
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/<FuzzName>/ in Go's corpus
// file format when run with -write-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("run with -write-corpus to regenerate")
	}
	for name, seeds := range map[string][][]byte{"FuzzDecode0": amf0Seeds(t), "FuzzDecode3": amf3Seeds()} {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			sum := sha256.Sum256(s)
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s)))
			if err := os.WriteFile(filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8])), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
