package session

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

func startWaitingSession(t *testing.T, hub *media.Hub, wait time.Duration) *harness {
	t.Helper()
	app := &LiveApp{Publish: PolicyOpen, Play: PolicyOpen, PlayWait: wait}
	return startSessionWith(t, Options{Hub: hub, MaxStreams: 4, Apps: map[string]App{"live": app}})
}

// statusOf returns the level and description of an onStatus message.
func statusOf(m *message.Message) (level, desc string) {
	c, _ := message.ParseCommand(m)
	o := c.StatusObject()
	return o.GetString("level"), o.GetString("description")
}

// A play of a name nobody publishes ends with StreamNotFound (level error)
// after play_wait; a play of a published name does not, until its
// publisher leaves and play_wait passes again. The NetStream stays usable.
func TestPlayWaitEndsWithStreamNotFound(t *testing.T) {
	const wait = 200 * time.Millisecond
	hub := media.NewHub(64, nil)
	pub := startSession(t, hub)
	pub.connect()
	pid := pub.createStream(2)
	pub.send(cmd(t, pid, "publish", 0, nil, "live1", "live"))
	pub.expect("Publish.Start", isStatus(codePublishStart))

	pl := startWaitingSession(t, hub, wait)
	pl.connect()
	live, none := pl.createStream(2), pl.createStream(3)
	start := time.Now()
	pl.send(cmd(t, none, "play", 0, nil, "nobody", -2000.0))
	pl.send(cmd(t, live, "play", 0, nil, "live1", -2000.0))
	m := pl.expect("StreamNotFound", isStatus(codePlayStreamNotFound))
	if d := time.Since(start); d < wait {
		t.Errorf("StreamNotFound after %v, before play_wait %v", d, wait)
	}
	if m.StreamID != none {
		t.Fatalf("StreamNotFound on stream %d: the published stream %d got it, not the unpublished %d", m.StreamID, live, none)
	}
	if level, desc := statusOf(m); level != "error" || desc == "" {
		t.Errorf("StreamNotFound level %q description %q", level, desc)
	}
	if hub.SubscriberCount("live/nobody") != 0 {
		t.Error("the ended play still subscribes")
	}

	// The publisher leaves: its player waits play_wait again, then ends.
	pub.send(cmd(t, pid, "deleteStream", 0, nil, float64(pid)))
	pl.expect("UnpublishNotify", isStatus(codePlayUnpublish))
	left := time.Now()
	m = pl.expect("StreamNotFound after the unpublish", isStatus(codePlayStreamNotFound))
	if m.StreamID != live || time.Since(left) < wait {
		t.Errorf("StreamNotFound on %d %v after the unpublish", m.StreamID, time.Since(left))
	}

	// The NetStream plays again; a publisher that comes in time is played.
	pl.send(cmd(t, none, "play", 0, nil, "late", -2000.0))
	pl.expect("Play.Start again", isStatus(codePlayStart))
	pub2 := startSession(t, hub)
	pub2.connect()
	id := pub2.createStream(2)
	pub2.send(cmd(t, id, "publish", 0, nil, "late", "live"))
	pl.expect("PublishNotify", isStatus(codePlayPublishNotify))
	pub2.send(&message.Message{Type: message.TypeAudio, StreamID: id, Timestamp: 0, Payload: []byte{0x42, 1}})
	pl.expect("audio", func(m *message.Message) bool { return m.Type == message.TypeAudio && m.StreamID == none })
}
