package sipbridge

import (
	"net"
	"slices"
	"strings"
	"testing"

	dmedia "github.com/emiago/diago/media"

	"github.com/flashvox/flashvox/codec"
)

const sdpHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

// answerCases drive TestAnswerList and seed FuzzAnswerList: an offer, our
// order, the other leg's codec, and the answer (codec, payload type,
// spelling; "" = none acceptable).
var answerCases = []struct {
	name, sdp   string
	pref        []codec.ID
	pass        codec.ID
	want        codec.ID
	pt          uint8
	spelling    string
	dtmfPT      int // -1: no telephone-event in the answer
	offeredWant []codec.ID
}{
	{"linphone's order, ours wins: speex", sdpHead + "m=audio 4000 RTP/AVP 0 8 97 101\r\na=rtpmap:97 speex/16000\r\na=rtpmap:101 telephone-event/8000\r\n",
		DefaultCodecs, 0, codec.Speex, 97, "speex", 101, []codec.ID{codec.PCMU, codec.PCMA, codec.Speex}},
	{"baresip: G.722 over PCMU", sdpHead + "m=audio 4000 RTP/AVP 0 9 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		DefaultCodecs, 0, codec.G722, 9, "G722", 101, []codec.ID{codec.PCMU, codec.G722}},
	{"pass-through beats quality", sdpHead + "m=audio 4000 RTP/AVP 9 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		DefaultCodecs, codec.PCMU, codec.PCMU, 0, "PCMU", 101, []codec.ID{codec.G722, codec.PCMU}},
	{"pass-through not offered", sdpHead + "m=audio 4000 RTP/AVP 8 9\r\na=rtpmap:9 G722/8000\r\n",
		DefaultCodecs, codec.Speex, codec.G722, 9, "G722", -1, []codec.ID{codec.PCMA, codec.G722}},
	{"trunk G.711 only", sdpHead + "m=audio 4000 RTP/AVP 97 9 8 0\r\na=rtpmap:97 speex/16000\r\na=rtpmap:9 G722/8000\r\n",
		[]codec.ID{codec.PCMA, codec.PCMU}, 0, codec.PCMA, 8, "PCMA", -1, []codec.ID{codec.Speex, codec.G722, codec.PCMA, codec.PCMU}},
	// diago writes an Opus rtpmap for 96 whatever it holds: no DTMF
	// rather than telling the peer its telephone-event is Opus.
	{"upper-case speex, other pt, dtmf 96", sdpHead + "m=audio 4000 RTP/AVP 110 96\na=rtpmap:110 SPEEX/16000/1\na=rtpmap:96 telephone-event/8000\n",
		DefaultCodecs, 0, codec.Speex, 110, "SPEEX", -1, []codec.ID{codec.Speex}},
	{"speex at 96 is not answered", sdpHead + "m=audio 4000 RTP/AVP 96 0\na=rtpmap:96 speex/16000\n",
		DefaultCodecs, 0, codec.PCMU, 0, "PCMU", -1, []codec.ID{codec.Speex, codec.PCMU}},
	// Opus (RFC 7587): first in our order when offered.
	{"baresip with opus", sdpHead + "m=audio 4000 RTP/AVP 96 9 0 8 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		defaultCodecs(true), 0, codec.Opus, 96, "opus", 101, []codec.ID{codec.Opus, codec.G722, codec.PCMU, codec.PCMA}},
	{"browser-style opus at 111", sdpHead + "m=audio 4000 RTP/AVP 111 0 126\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:126 telephone-event/8000\r\n",
		defaultCodecs(true), 0, codec.Opus, 111, "opus", 126, []codec.ID{codec.Opus, codec.PCMU}},
	{"OPUS/48000 mono spelling", sdpHead + "m=audio 4000 RTP/AVP 100\r\na=rtpmap:100 OPUS/48000\r\n",
		defaultCodecs(true), 0, codec.Opus, 100, "OPUS", -1, []codec.ID{codec.Opus}},
	{"pass-through G.711 beats opus", sdpHead + "m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\n",
		defaultCodecs(true), codec.PCMU, codec.PCMU, 0, "PCMU", -1, []codec.ID{codec.Opus, codec.PCMU}},
	{"opus without libopus", sdpHead + "m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\n",
		defaultCodecs(false), 0, codec.PCMU, 0, "PCMU", -1, []codec.ID{codec.Opus, codec.PCMU}},
	{"opus at 16 kHz", sdpHead + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/16000/2\r\n", defaultCodecs(true), 0, 0, 0, "", -1, nil},
	{"opus on a static pt", sdpHead + "m=audio 4000 RTP/AVP 3\r\na=rtpmap:3 opus/48000/2\r\n", defaultCodecs(true), 0, 0, 0, "", -1, nil},
	{"opus with 6 channels", sdpHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 opus/48000/6\r\n", defaultCodecs(true), 0, 0, 0, "", -1, nil},
	{"opus at 101", sdpHead + "m=audio 4000 RTP/AVP 101 8\r\na=rtpmap:101 opus/48000/2\r\n",
		defaultCodecs(true), 0, codec.PCMA, 8, "PCMA", -1, []codec.ID{codec.Opus, codec.PCMA}},
	{"narrowband speex only", sdpHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/8000\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"speex on a static pt", sdpHead + "m=audio 4000 RTP/AVP 9\r\na=rtpmap:9 speex/16000\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"stereo speex", sdpHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000/2\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"G.722 not in the order", sdpHead + "m=audio 4000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n", []codec.ID{codec.PCMU}, 0, 0, 0, "", -1, []codec.ID{codec.G722}},
	{"video only", sdpHead + "m=video 4000 RTP/AVP 0\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"no sdp", "", DefaultCodecs, 0, 0, 0, "", -1, nil},
	// Bodies that panic diago v0.31.0's SDP reading (sdpguard.go).
	{"bare LF line", sdpHead + "\nm=audio 4000 RTP/AVP 0\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"LF first", "\n" + sdpHead, DefaultCodecs, 0, 0, 0, "", -1, nil},
	{"rtpmap twice", sdpHead + "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 speex/16000\r\na=rtpmap:97 speex/16000\r\n", DefaultCodecs, 0, 0, 0, "", -1, nil},
}

// FuzzSDPSafe: a body sdpSafe passes is read by diago's own offer/answer
// code (MediaSession.RemoteSDP) without panicking.
func FuzzSDPSafe(f *testing.F) {
	for _, tc := range answerCases {
		f.Add([]byte(tc.sdp))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !sdpSafe(b) {
			return
		}
		ms := &dmedia.MediaSession{Codecs: offerList(DefaultCodecs)}
		_ = ms.RemoteSDP(b)
	})
}

func TestAnswerList(t *testing.T) {
	for _, tc := range answerCases {
		offer := sdpCodecs([]byte(tc.sdp))
		if got := offeredIDs(offer); !slices.Equal(got, tc.offeredWant) {
			t.Errorf("%s: offered %v, want %v", tc.name, got, tc.offeredWant)
		}
		list, chosen, ok := answerList(offer, tc.pref, tc.pass)
		if !ok {
			if tc.want != 0 {
				t.Errorf("%s: no answer, want %v", tc.name, tc.want)
			}
			continue
		}
		if chosen != tc.want || list[0].PayloadType != tc.pt || list[0].Name != tc.spelling {
			t.Errorf("%s: answered %v (%v), want %v pt %d %q", tc.name, chosen, list[0], tc.want, tc.pt, tc.spelling)
		}
		switch {
		case tc.dtmfPT < 0 && len(list) != 1:
			t.Errorf("%s: answer %v has more than the codec", tc.name, list)
		case tc.dtmfPT >= 0 && (len(list) != 2 || int(list[1].PayloadType) != tc.dtmfPT):
			t.Errorf("%s: answer %v, want telephone-event at %d", tc.name, list, tc.dtmfPT)
		}
	}
}

// FuzzAnswerList: any SDP body is read without panicking, and a codec
// chosen is one we speak, in our order, as the offer wrote it.
func FuzzAnswerList(f *testing.F) {
	for _, tc := range answerCases {
		f.Add([]byte(tc.sdp))
	}
	f.Add([]byte("m=audio\na=rtpmap:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		offer := sdpCodecs(b)
		pref := defaultCodecs(true)
		list, chosen, ok := answerList(offer, pref, codec.PCMA)
		if !ok {
			return
		}
		if codecOf(list[0]) != chosen || !slices.Contains(offer, list[0]) || !slices.Contains(pref, chosen) {
			t.Fatalf("offer %v: answered %v as %v", offer, list, chosen)
		}
		// The SDP diago writes of the answer says what we chose.
		if back := sdpCodecs(diagoSDP(t, list)); len(back) != len(list) || codecOf(back[0]) != chosen {
			t.Fatalf("offer %v: answered %v, diago wrote %v", offer, list, back)
		}
	})
}

func TestOrderCodecs(t *testing.T) {
	got := orderCodecs(defaultCodecs(false), []codec.ID{codec.PCMA, codec.G722, codec.Nellymoser})
	if want := []codec.ID{codec.G722, codec.PCMA, codec.Speex, codec.PCMU}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := orderCodecs([]codec.ID{codec.PCMU, codec.PCMA}, []codec.ID{codec.Speex}); !slices.Equal(got, []codec.ID{codec.PCMU, codec.PCMA}) {
		t.Errorf("a trunk's list gained a codec: %v", got)
	}
	var names []string
	for _, c := range offerList(DefaultCodecs) {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "speex G722 PCMU PCMA telephone-event" && got != "opus speex G722 PCMU PCMA telephone-event" {
		t.Errorf("default offer %q", got)
	}
	if got := defaultCodecs(true); got[0] != codec.Opus {
		t.Errorf("with libopus, Opus is not first: %v", got)
	}
	if slices.Contains(defaultCodecs(false), codec.Opus) {
		t.Error("without libopus, Opus is offered")
	}
}

// diagoSDP is the SDP diago writes for a session of codecs list.
func diagoSDP(t *testing.T, list []dmedia.Codec) []byte {
	t.Helper()
	ms := &dmedia.MediaSession{Codecs: list, Laddr: net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, Mode: "sendrecv"}
	return ms.LocalSDP()
}

// TestOpusOffer: our default offer, as diago writes it, names Opus as
// RFC 7587 says (opus/48000/2, dynamic payload type, an fmtp) and a
// phone reading it finds Opus first.
func TestOpusOffer(t *testing.T) {
	sdp := string(diagoSDP(t, offerList(defaultCodecs(true))))
	for _, want := range []string{"m=audio 4000 RTP/AVP 96 97 9 0 8 101", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 ", "a=rtpmap:97 speex/16000"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("offer lacks %q:\n%s", want, sdp)
		}
	}
	if got := offeredIDs(sdpCodecs([]byte(sdp))); !slices.Equal(got, defaultCodecs(true)) {
		t.Errorf("offer read back as %v", got)
	}
}

func TestParseCodecs(t *testing.T) {
	got, err := ParseCodecs([]string{"PCMA", "speex/16000", "g722"})
	if err != nil || !slices.Equal(got, []codec.ID{codec.PCMA, codec.Speex, codec.G722}) {
		t.Errorf("got %v %v", got, err)
	}
	if got, err := ParseCodecs([]string{"Opus", "pcmu"}); err != nil || !slices.Equal(got, []codec.ID{codec.Opus, codec.PCMU}) {
		t.Errorf("opus: got %v %v", got, err)
	}
	for _, bad := range [][]string{{"opus/48000"}, {"speex"}, {"pcmu", "PCMU"}, {""}} {
		if _, err := ParseCodecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
