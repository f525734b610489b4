package webrtc

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

// chromeOffer is the shape of Chromium's recvonly audio offer (WHEP).
const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n" +
	"a=ice-options:trickle\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"

var offerCases = []struct {
	name string
	sdp  string
	want error
}{
	{"chrome recvonly audio", chromeOffer, nil},
	{"empty", "", errBadOffer},
	{"not sdp", "hello", errBadOffer},
	{"no opus", strings.ReplaceAll(chromeOffer, "opus/48000/2", "speex/16000"), errBadOffer},
	{"video only", strings.ReplaceAll(chromeOffer, "m=audio", "m=video"), errBadOffer},
	{"too many media", chromeOffer + strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", maxMedia), errBadOffer},
}

func TestCheckOffer(t *testing.T) {
	for _, c := range offerCases {
		if err := checkOffer([]byte(c.sdp)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
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
		if _, err := readOffer(r); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzCheckOffer: no input panics, and an accepted offer has an Opus
// audio section.
func FuzzCheckOffer(f *testing.F) {
	for _, c := range offerCases {
		f.Add([]byte(c.sdp))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := checkOffer(b); err == nil && !bytes.Contains(bytes.ToLower(b), []byte(" opus/48000")) {
			t.Fatalf("accepted an offer without opus: %q", b)
		}
	})
}
