package codec

import (
	"errors"
	"testing"
)

var flvCases = []struct {
	name string
	tag0 byte
	id   ID
	rate int
	// header is the byte FLVAudioHeader writes for (id, rate); 0 if tag0 is not what we write.
	header byte
}{
	{"nelly16k ffmpeg", 0x42, Nellymoser, 16000, 0x42},
	{"nelly16k rate bits ignored", 0x4E, Nellymoser, 16000, 0},
	{"nelly8k", 0x52, Nellymoser, 8000, 0x52},
	{"nelly 5512", 0x62, Nellymoser, 5512, 0x62},
	{"nelly 11025", 0x66, Nellymoser, 11025, 0x66},
	{"nelly 22050", 0x6A, Nellymoser, 22050, 0x6A},
	{"nelly 44100", 0x6E, Nellymoser, 44100, 0x6E},
	{"speex flash", 0xB2, Speex, 16000, 0xB2},
	{"speex ffmpeg", 0xB6, Speex, 16000, 0},
	{"pcmu", 0x82, PCMU, 8000, 0x82},
	{"pcma", 0x72, PCMA, 8000, 0x72},
	{"pcma rate bits ignored", 0x7E, PCMA, 8000, 0},
	{"mp3 44.1k stereo", 0x2F, MP3, 44100, 0},
	{"mp3 22.05k mono", 0x2A, MP3, 22050, 0x2A},
	{"mp3 8k", 0xE2, MP3, 8000, 0xE2},
	{"aac", 0xAF, AAC, 0, 0},
	{"adpcm 22k", 0x1A, ADPCM, 22050, 0x1A},
	{"pcm le 44k", 0x3E, PCM16, 44100, 0x3E},
	{"pcm platform 11k", 0x06, PCM16, 11025, 0},
}

func TestParseFLVAudio(t *testing.T) {
	for _, c := range flvCases {
		id, rate, err := ParseFLVAudio(c.tag0)
		if err != nil || id != c.id || rate != c.rate {
			t.Errorf("%s: ParseFLVAudio(%#x) = %v, %d, %v; want %v, %d", c.name, c.tag0, id, rate, err, c.id, c.rate)
		}
		if c.header == 0 {
			continue
		}
		h, err := FLVAudioHeader(c.id, c.rate)
		if err != nil || h != c.header {
			t.Errorf("%s: FLVAudioHeader(%v, %d) = %#x, %v; want %#x", c.name, c.id, c.rate, h, err, c.header)
		}
	}
	for _, b := range []byte{0x90, 0xC2, 0xD2, 0xF2} {
		if _, _, err := ParseFLVAudio(b); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ParseFLVAudio(%#x): err %v, want ErrUnknownFormat", b, err)
		}
	}
	if h, err := FLVAudioHeader(AAC, 16000); err != nil || h != 0xAF {
		t.Errorf("aac header %#x %v", h, err)
	}
	s, _ := ParseFLVSound(0x09)
	if s.Bits != 8 || !s.Stereo || s.Rate != 22050 {
		t.Errorf("0x09: %+v", s)
	}
}

func TestFLVAudioHeaderErrors(t *testing.T) {
	for _, c := range []struct {
		id   ID
		rate int
		want error
	}{
		{Speex, 8000, ErrUnsupportedRate},
		{PCMU, 16000, ErrUnsupportedRate},
		{Nellymoser, 12000, ErrUnsupportedRate},
		{G722, 16000, ErrUnknownFormat},
		{0, 8000, ErrUnknownFormat},
	} {
		if h, err := FLVAudioHeader(c.id, c.rate); !errors.Is(err, c.want) || h != 0 {
			t.Errorf("FLVAudioHeader(%v, %d) = %#x, %v; want %v", c.id, c.rate, h, err, c.want)
		}
	}
}

func TestInfoTable(t *testing.T) {
	for id := ID(1); id < numIDs; id++ {
		in, ok := Lookup(id)
		if !ok || in.ID != id || in.SampleRate == 0 || in.ClockRate == 0 || in.FrameSamples == 0 {
			t.Errorf("Lookup(%v) = %+v, %v", id, in, ok)
		}
		if p, ok := ParseID(id.String()); !ok || p != id {
			t.Errorf("ParseID(%q) = %v, %v", id.String(), p, ok)
		}
		if in.FLVFormat != NoFLV {
			h, err := FLVAudioHeader(id, in.SampleRate)
			if err != nil || h>>4 != in.FLVFormat {
				t.Errorf("%v: header %#x, %v, want format %d", id, h, err, in.FLVFormat)
			}
		}
	}
	g, _ := Lookup(G722)
	if g.SampleRate != 16000 || g.ClockRate != 8000 || g.PayloadType != 9 {
		t.Errorf("G.722 must sample at 16000 with an 8000 Hz RTP clock (RFC 3551): %+v", g)
	}
	if in, ok := LookupPayloadType(0); !ok || in.ID != PCMU {
		t.Errorf("PT 0: %+v", in)
	}
	if _, ok := LookupPayloadType(PayloadDynamic); ok {
		t.Error("dynamic payload type matched a codec")
	}
	if _, ok := Lookup(0); ok || ID(0).String() != "unknown" {
		t.Error("ID 0 is valid")
	}
}

// FuzzParseFLVAudio: any byte parses or errors, and what we write parses back.
func FuzzParseFLVAudio(f *testing.F) {
	for _, c := range flvCases {
		f.Add(c.tag0)
	}
	f.Fuzz(func(t *testing.T, b byte) {
		s, err := ParseFLVSound(b)
		if err != nil {
			return
		}
		if s.Rate == 0 {
			return
		}
		h, err := FLVAudioHeader(s.ID, s.Rate)
		if err != nil {
			if s.ID == Speex || s.ID == PCMU || s.ID == PCMA {
				t.Fatalf("%#x parsed to %+v but cannot be written: %v", b, s, err)
			}
			return
		}
		id, rate, err := ParseFLVAudio(h)
		if err != nil || id != s.ID || rate != s.Rate {
			t.Fatalf("%#x → %+v → %#x → %v %d %v", b, s, h, id, rate, err)
		}
	})
}
