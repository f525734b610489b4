package sipbridge

import (
	"testing"
)

func TestOfferedSpeex(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	for _, tc := range []struct {
		name, sdp string
		ok        bool
		pt        uint8
		spelling  string
	}{
		{"speex wideband", head + "m=audio 4000 RTP/AVP 0 98 101\r\na=rtpmap:98 speex/16000\r\na=rtpmap:101 telephone-event/8000\r\n", true, 98, "speex"},
		{"upper case, channels", head + "m=audio 4000 RTP/AVP 110\na=rtpmap:110 SPEEX/16000/1\n", true, 110, "SPEEX"},
		{"narrowband only", head + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/8000\r\n", false, 0, ""},
		{"not in the m= line", head + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:97 speex/16000\r\n", false, 0, ""},
		{"second stream", head + "m=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 97\r\na=rtpmap:97 speex/16000\r\n", false, 0, ""},
		{"video stream", head + "m=video 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000\r\n", false, 0, ""},
		{"static payload type", head + "m=audio 4000 RTP/AVP 9\r\na=rtpmap:9 speex/16000\r\n", false, 0, ""},
		{"stereo", head + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000/2\r\n", false, 0, ""},
		{"no sdp", "", false, 0, ""},
	} {
		c, ok := offeredSpeex([]byte(tc.sdp))
		if ok != tc.ok || (ok && (c.PayloadType != tc.pt || c.Name != tc.spelling || c.SampleRate != 16000)) {
			t.Errorf("%s: got %v %v, want ok %v pt %d %q", tc.name, c, ok, tc.ok, tc.pt, tc.spelling)
		}
	}
}

// FuzzOfferedSpeex: any SDP body is parsed without panicking, and a codec
// found is speex/16000 on a dynamic payload type.
func FuzzOfferedSpeex(f *testing.F) {
	f.Add([]byte("m=audio 4000 RTP/AVP 0 98 101\r\na=rtpmap:98 speex/16000\r\n"))
	f.Add([]byte("m=audio 1 RTP/AVP 97\na=rtpmap:97 SPEEX/16000/1\n"))
	f.Add([]byte("m=audio\na=rtpmap:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := offeredSpeex(b)
		if ok && (c.SampleRate != 16000 || c.PayloadType < 96 || c.PayloadType > 127) {
			t.Fatalf("found %v", c)
		}
	})
}
