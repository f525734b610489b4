package webrtc

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// chromeOffer is the shape of Chromium's recvonly audio offer (WHEP).
const chromeOffer = testpeer.ChromeOffer

// noG711 is chromeOffer without its G.711 lines.
var noG711 = strings.NewReplacer("a=rtpmap:0 PCMU/8000\r\n", "", "a=rtpmap:8 PCMA/8000\r\n", "").Replace(chromeOffer)

var offerCases = []struct {
	name   string
	sdp    string
	want   error
	codecs []codec.ID // offered, in the offer's order
}{
	{"chrome recvonly audio", chromeOffer, nil, []codec.ID{codec.Opus, codec.PCMU, codec.PCMA}},
	{"g711 only", strings.ReplaceAll(chromeOffer, "opus/48000/2", "foo/48000/2"), nil, []codec.ID{codec.PCMU, codec.PCMA}},
	{"g722", strings.ReplaceAll(noG711, "opus/48000/2", "G722/8000"), nil, []codec.ID{codec.G722}},
	{"opus at a wrong clock", strings.ReplaceAll(noG711, "opus/48000/2", "opus/8000"), errBadOffer, nil},
	{"bad rtpmap clock", strings.ReplaceAll(noG711, "opus/48000/2", "opus/x"), errBadOffer, nil},
	{"empty", "", errBadOffer, nil},
	{"not sdp", "hello", errBadOffer, nil},
	{"no known codec", strings.ReplaceAll(noG711, "opus/48000/2", "speex/16000"), errBadOffer, nil},
	{"video only", strings.ReplaceAll(chromeOffer, "m=audio", "m=video"), errBadOffer, nil},
	{"too many media", chromeOffer + strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", maxMedia), errBadOffer, nil},
	{"rtpmap flood", noG711 + strings.Repeat("a=rtpmap:0 PCMU/8000\r\n", 2*maxRtpmaps), nil, []codec.ID{codec.Opus, codec.PCMU}},
}

func TestCheckOffer(t *testing.T) {
	for _, c := range offerCases {
		o, err := checkOffer([]byte(c.sdp))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if !slices.Equal(o.codecs, c.codecs) {
			t.Errorf("%s: offered %v, want %v", c.name, o.codecs, c.codecs)
		}
	}
}

// TestChooseCodec: the first codec of the preference the offer has.
func TestChooseCodec(t *testing.T) {
	o := offered{codecs: []codec.ID{codec.PCMA, codec.Opus, codec.PCMU}}
	for _, c := range []struct {
		pref []codec.ID
		want codec.ID
		ok   bool
	}{
		{DefaultCodecs, codec.Opus, true},
		{[]codec.ID{codec.PCMU, codec.Opus}, codec.PCMU, true},
		{[]codec.ID{codec.G722}, 0, false},
	} {
		if got, ok := o.choose(c.pref); got != c.want || ok != c.ok {
			t.Errorf("choose(%v) = %v %v, want %v %v", c.pref, got, ok, c.want, c.ok)
		}
	}
}

func TestParseCodecs(t *testing.T) {
	if got, err := ParseCodecs([]string{"pcmu", " Opus "}); err != nil || !slices.Equal(got, []codec.ID{codec.PCMU, codec.Opus}) {
		t.Errorf("pcmu, opus: %v %v", got, err)
	}
	for _, bad := range [][]string{nil, {"speex"}, {"nellymoser"}, {"pcmu", "pcmu"}, {""}} {
		if _, err := ParseCodecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadOfferBounds(t *testing.T) {
	for _, c := range []struct {
		name, ctype string
		body        []byte
		want        error
	}{
		{"ok", "application/sdp", []byte(chromeOffer), nil},
		{"charset param", "application/sdp; charset=utf-8", []byte(chromeOffer), nil},
		{"json", "application/json", []byte(chromeOffer), errContentType},
		{"too large", "application/sdp", bytes.Repeat([]byte("a"), MaxOfferSize+1), errTooLarge},
	} {
		r := httptest.NewRequest("POST", "/live/x/whep", bytes.NewReader(c.body))
		r.Header.Set("Content-Type", c.ctype)
		r.ContentLength = -1 // as a chunked request: the read itself must stop
		if _, _, err := readOffer(r); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzCheckOffer: no input panics, and an accepted offer names each
// codec it is said to offer.
func FuzzCheckOffer(f *testing.F) {
	for _, c := range offerCases {
		f.Add([]byte(c.sdp))
	}
	names := map[codec.ID]string{codec.Opus: " opus/48000", codec.PCMU: " pcmu/8000", codec.PCMA: " pcma/8000", codec.G722: " g722/8000"}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := checkOffer(b)
		if err == nil && len(o.codecs) == 0 {
			t.Fatalf("accepted an offer without a codec: %q", b)
		}
		for _, id := range o.codecs {
			if !bytes.Contains(bytes.ToLower(b), []byte(names[id])) {
				t.Fatalf("%v said offered, not in %q", id, b)
			}
		}
	})
}
