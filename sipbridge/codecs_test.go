package sipbridge

import (
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
	{"upper-case speex, other pt, dtmf 96", sdpHead + "m=audio 4000 RTP/AVP 110 96\na=rtpmap:110 SPEEX/16000/1\na=rtpmap:96 telephone-event/8000\n",
		DefaultCodecs, 0, codec.Speex, 110, "SPEEX", 96, []codec.ID{codec.Speex}},
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
		list, chosen, ok := answerList(offer, DefaultCodecs, codec.PCMA)
		if ok && (codecOf(list[0]) != chosen || !slices.Contains(offer, list[0]) || !slices.Contains(DefaultCodecs, chosen)) {
			t.Fatalf("offer %v: answered %v as %v", offer, list, chosen)
		}
	})
}

func TestOrderCodecs(t *testing.T) {
	got := orderCodecs(DefaultCodecs, []codec.ID{codec.PCMA, codec.G722, codec.Nellymoser})
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
	if got := strings.Join(names, " "); got != "speex G722 PCMU PCMA telephone-event" {
		t.Errorf("default offer %q", got)
	}
}

func TestParseCodecs(t *testing.T) {
	got, err := ParseCodecs([]string{"PCMA", "speex/16000", "g722"})
	if err != nil || !slices.Equal(got, []codec.ID{codec.PCMA, codec.Speex, codec.G722}) {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range [][]string{{"opus"}, {"speex"}, {"pcmu", "PCMU"}, {""}} {
		if _, err := ParseCodecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
