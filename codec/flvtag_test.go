package codec

import (
	"bytes"
	"errors"
	"testing"
)

// flvTagCases are FLV audio tag bodies as publishers send them and what
// SplitFLVAudio makes of them; AppendFLVAudio must give the body back.
var flvTagCases = []struct {
	name     string
	body     []byte
	a        FLVAudio // Hint is the body's first byte
	pkt      []byte
	noHintB0 byte // the sound byte AppendFLVAudio writes without the hint
}{
	{"pcm platform 5.5k 8-bit mono", []byte{0x00, 1}, FLVAudio{ID: PCM16, Rate: 5512, Channels: 1}, []byte{1}, 0x32},
	{"adpcm 22k stereo", []byte{0x1B, 1}, FLVAudio{ID: ADPCM, Rate: 22050, Channels: 2}, []byte{1}, 0x1B},
	{"mp3 44.1k stereo", []byte{0x2F, 1, 2}, FLVAudio{ID: MP3, Rate: 44100, Channels: 2}, []byte{1, 2}, 0x2F},
	{"pcm le 44.1k", []byte{0x3E, 1}, FLVAudio{ID: PCM16, Rate: 44100, Channels: 1}, []byte{1}, 0x3E},
	{"nelly16k flash", []byte{0x42, 1}, FLVAudio{ID: Nellymoser, Rate: 16000, Channels: 1}, []byte{1}, 0x42},
	{"nelly16k odd rate bits", []byte{0x4F, 1}, FLVAudio{ID: Nellymoser, Rate: 16000, Channels: 1}, []byte{1}, 0x42},
	{"nelly8k", []byte{0x52, 1}, FLVAudio{ID: Nellymoser, Rate: 8000, Channels: 1}, []byte{1}, 0x52},
	{"nelly 44.1k", []byte{0x6E, 1}, FLVAudio{ID: Nellymoser, Rate: 44100, Channels: 1}, []byte{1}, 0x6E},
	{"pcma", []byte{0x72, 1}, FLVAudio{ID: PCMA, Rate: 8000, Channels: 1}, []byte{1}, 0x72},
	{"pcmu", []byte{0x82, 1}, FLVAudio{ID: PCMU, Rate: 8000, Channels: 1}, []byte{1}, 0x82},
	{"aac sequence header", []byte{0xAF, 0, 0x12, 0x10}, FLVAudio{ID: AAC, Channels: 2, Config: true}, []byte{0x12, 0x10}, 0xAF},
	{"aac raw", []byte{0xAF, 1, 0x21}, FLVAudio{ID: AAC, Channels: 2}, []byte{0x21}, 0xAF},
	{"speex flash", []byte{0xB2, 1}, FLVAudio{ID: Speex, Rate: 16000, Channels: 1}, []byte{1}, 0xB2},
	{"speex ffmpeg", []byte{0xB6, 1}, FLVAudio{ID: Speex, Rate: 16000, Channels: 1}, []byte{1}, 0xB2},
	{"mp3 8k", []byte{0xE2, 1}, FLVAudio{ID: MP3, Rate: 8000, Channels: 1}, []byte{1}, 0xE2},
}

func TestSplitAppendFLVAudio(t *testing.T) {
	for _, c := range flvTagCases {
		a, pkt, err := SplitFLVAudio(c.body)
		want := c.a
		want.Hint = MakeFLVHint(c.body[0])
		if err != nil || a != want || !bytes.Equal(pkt, c.pkt) {
			t.Errorf("%s: SplitFLVAudio = %+v, %x, %v; want %+v, %x", c.name, a, pkt, err, want, c.pkt)
			continue
		}
		if got, err := AppendFLVAudio(nil, a, pkt); err != nil || !bytes.Equal(got, c.body) {
			t.Errorf("%s: AppendFLVAudio = %x, %v; want %x", c.name, got, err, c.body)
		}
		a.Hint = 0
		got, err := AppendFLVAudio(nil, a, pkt)
		if err != nil || got[0] != c.noHintB0 {
			t.Errorf("%s: AppendFLVAudio without hint = %x, %v; want sound byte %#x", c.name, got, err, c.noHintB0)
		}
	}
}

// TestFLVAudioEveryByte checks every sound byte of every SoundFormat: a body
// splits into a frame that builds the same bytes again (relay is
// byte-identical), or is refused as an unknown format.
func TestFLVAudioEveryByte(t *testing.T) {
	for b := range 256 {
		for _, second := range []byte{0, 1, 2} {
			body := []byte{byte(b), second, 0x55}
			a, pkt, err := SplitFLVAudio(body)
			if err != nil {
				format := b >> 4
				unknown := format == 9 || format == 12 || format == 13 || format == 15 || (format == flvAAC && second > aacRaw)
				if !unknown || !errors.Is(err, ErrUnknownFormat) {
					t.Errorf("%#x %#x: %v", b, second, err)
				}
				continue
			}
			if got, err := AppendFLVAudio(nil, a, pkt); err != nil || !bytes.Equal(got, body) {
				t.Errorf("%#x %#x: round trip %x, %v", b, second, got, err)
			}
		}
	}
}

func TestFLVAudioEdges(t *testing.T) {
	if _, _, err := SplitFLVAudio(nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty: %v", err)
	}
	if _, _, err := SplitFLVAudio([]byte{0xAF}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("aac without packet type: %v", err)
	}
	if _, err := AppendFLVAudio(nil, FLVAudio{ID: G722, Rate: 16000, Channels: 1}, []byte{1}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("g722: %v", err)
	}
	// A hint that no longer matches (a transcoder's output of another
	// codec) is not used.
	got, err := AppendFLVAudio(nil, FLVAudio{ID: PCMU, Rate: 8000, Channels: 1, Hint: MakeFLVHint(0xB6)}, nil)
	if err != nil || !bytes.Equal(got, []byte{0x82}) {
		t.Errorf("stale hint: %x, %v", got, err)
	}
}

// FuzzSplitFLVAudio: any body either splits into a frame that builds the
// very same body again, or is refused; nothing panics.
func FuzzSplitFLVAudio(f *testing.F) {
	for _, c := range flvTagCases {
		f.Add(c.body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, pkt, err := SplitFLVAudio(body)
		if err != nil {
			return
		}
		got, err := AppendFLVAudio(nil, a, pkt)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%x: round trip %x, %v", body, got, err)
		}
	})
}
