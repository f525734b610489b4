package phone_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/rtmp/message"
)

// joinConference's {codec} is the codec of every tag of the member's mix;
// a codec FLV cannot carry is refused with the reason.
func TestConferenceJoinCodec(t *testing.T) {
	st, _ := startConfStack(t, conference.ModeMixed)
	alice := dialConf(t, st.Addr, "alice")
	if _, err := alice.call("joinConference", "codecs", amf.NewObject("codec", "g722")); err == nil || !strings.Contains(err.Error(), "codec must be") {
		t.Fatalf("codec g722: %v, want the bad codec refusal", err)
	}
	j := alice.join("codecs", amf.NewObject("codec", "pcmu"))
	alice.play(j.GetString("play"))
	var first []*message.Message
	timeout := time.After(3 * time.Second)
	for len(first) < 20 {
		select {
		case m := <-alice.audio:
			first = append(first, m)
		case <-timeout:
			t.Fatalf("%d mix tags in 3 s", len(first))
		}
	}
	for i, m := range first {
		if id, _, err := codec.ParseFLVAudio(m.Payload[0]); err != nil || id != codec.PCMU {
			t.Fatalf("mix tag %d: %v %v, want pcmu", i, id, err)
		}
	}
}
