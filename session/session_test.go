package session

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

func TestConnectReplyHonoursObjectEncoding(t *testing.T) {
	for _, enc := range []float64{0, 3} {
		h := startSession(t, media.NewHub(16, nil))
		h.send(cmd(t, 0, "connect", 1, amf.NewObject("app", "live", "objectEncoding", enc)))
		h.expect("window ack", func(m *message.Message) bool { return m.Type == message.TypeWindowAckSize })
		h.expect("peer bandwidth", func(m *message.Message) bool { return m.Type == message.TypeSetPeerBandwidth })
		m := h.expect("_result", isCommand("_result"))
		wantType := message.TypeCommandAMF0
		if enc == 3 {
			wantType = message.TypeCommandAMF3
		}
		if m.Type != wantType {
			t.Fatalf("enc %v: reply type %d, want %d", enc, m.Type, wantType)
		}
		c, _ := message.ParseCommand(m)
		inf := c.StatusObject()
		if got, _ := inf.GetNumber("objectEncoding"); got != enc || inf.GetString("code") != codeConnectSuccess {
			t.Fatalf("enc %v: info %+v", enc, inf)
		}
		// Every later reply uses the same encoding.
		h.send(cmd(t, 0, "createStream", 2, nil))
		if m := h.expect("createStream _result", isCommand("_result")); m.Type != wantType {
			t.Fatalf("enc %v: createStream reply type %d", enc, m.Type)
		}
	}
}

func TestCommandBeforeConnectEndsSession(t *testing.T) {
	h := startSession(t, media.NewHub(16, nil))
	h.send(cmd(t, 0, "createStream", 2, nil))
	select {
	case err := <-h.done:
		if err == nil {
			t.Fatal("want an error")
		}
		h.done <- err // for cleanup
	case <-time.After(2 * time.Second):
		t.Fatal("session must end on a command before connect")
	}
}

func TestUnknownCallGetsError(t *testing.T) {
	h := startSession(t, media.NewHub(16, nil))
	h.connect()
	h.send(cmd(t, 0, "fooBar", 7, nil, "x"))
	m := h.expect("_error", isCommand("_error"))
	c, _ := message.ParseCommand(m)
	if c.TxID != 7 || c.StatusObject().GetString("code") != codeCallFailed {
		t.Fatalf("got %+v", c)
	}
	// FMS-style helper commands get a _result.
	h.send(cmd(t, 0, "releaseStream", 8, nil, "a"))
	if c, _ := message.ParseCommand(h.expect("_result", isCommand("_result"))); c.TxID != 8 {
		t.Fatalf("releaseStream tx %v", c.TxID)
	}
}

func TestPublishBadNameAndStreamLimit(t *testing.T) {
	hub := media.NewHub(16, nil)
	a := startSession(t, hub)
	a.connect()
	id := a.createStream(2)
	a.send(cmd(t, id, "publish", 0, nil, "a", "live"))
	a.expect("Publish.Start", isStatus(codePublishStart))

	b := startSession(t, hub)
	b.connect()
	id2 := b.createStream(2)
	b.send(cmd(t, id2, "publish", 0, nil, "a", "live"))
	b.expect("Publish.BadName", isStatus(codePublishBadName))

	for tx := 3.0; tx < 6; tx++ {
		b.createStream(tx)
	}
	b.send(cmd(t, 0, "createStream", 9, nil))
	b.expect("stream limit _error", isCommand("_error"))
}

func TestPlayWaitsForPublisherAndTimestampsNeverGoBack(t *testing.T) {
	hub := media.NewHub(64, nil)
	pl := startSession(t, hub)
	pl.connect()
	sid := pl.createStream(2)
	pl.send(cmd(t, sid, "play", 0, nil, "x", -2000.0))
	pl.expect("Play.Reset", isStatus(codePlayReset))
	pl.expect("Play.Start", isStatus(codePlayStart))

	publishOnce := func(tss ...uint32) {
		pub := startSession(t, hub)
		pub.connect()
		id := pub.createStream(2)
		pub.send(cmd(t, id, "publish", 0, nil, "x", "live"))
		pub.expect("Publish.Start", isStatus(codePublishStart))
		for _, ts := range tss {
			pub.send(&message.Message{Type: message.TypeAudio, StreamID: id, Timestamp: ts, Payload: []byte{0x42, byte(ts)}})
		}
		pub.send(cmd(t, id, "deleteStream", 0, nil, float64(id)))
		pub.expect("Unpublish.Success", isStatus(codeUnpublishSuccess))
	}
	isAudio := func(m *message.Message) bool { return m.Type == message.TypeAudio }

	publishOnce(1000, 1020)
	pl.expect("PublishNotify", isStatus(codePlayPublishNotify))
	if m := pl.expect("audio 1", isAudio); m.Timestamp != 1000 || m.StreamID != sid {
		t.Fatalf("first audio ts %d stream %d", m.Timestamp, m.StreamID)
	}
	pl.expect("audio 2", isAudio)
	pl.expect("UnpublishNotify", isStatus(codePlayUnpublish))

	publishOnce(0, 20) // a new publisher restarts at 0
	pl.expect("PublishNotify again", isStatus(codePlayPublishNotify))
	m1, m2 := pl.expect("audio 3", isAudio), pl.expect("audio 4", isAudio)
	if m1.Timestamp < 1020 || m2.Timestamp != m1.Timestamp+20 {
		t.Fatalf("timestamps after republish: %d, %d (last was 1020)", m1.Timestamp, m2.Timestamp)
	}
}

func TestPauseAndReceiveAudio(t *testing.T) {
	hub := media.NewHub(64, nil)
	pl := startSession(t, hub)
	pl.connect()
	sid := pl.createStream(2)
	pl.send(cmd(t, sid, "play", 0, nil, "p"))
	pl.expect("Play.Start", isStatus(codePlayStart))
	pub, err := hub.Publish("live/p")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pl.send(cmd(t, sid, "pause", 0, nil, true, 0.0))
	pl.expect("Pause.Notify", isStatus(codePauseNotify))
	pub.Write(&media.Frame{Kind: media.KindAudio, Timestamp: 5, Codec: codec.Nellymoser, Rate: 16000, Channels: 1})
	pl.send(cmd(t, sid, "pause", 0, nil, false, 0.0))
	pl.expect("Unpause.Notify", isStatus(codeUnpauseNotify))
	pub.Write(&media.Frame{Kind: media.KindAudio, Timestamp: 9, Codec: codec.Nellymoser, Rate: 16000, Channels: 1})
	if m := pl.expect("audio after unpause", func(m *message.Message) bool { return m.Type == message.TypeAudio }); m.Timestamp != 9 {
		t.Fatalf("paused frame was delivered: ts %d", m.Timestamp)
	}
}

func TestInvokeDeliversResult(t *testing.T) {
	hub := media.NewHub(16, nil)
	ft := newFake()
	s := New(ft, Options{Hub: hub, Apps: map[string]App{"live": Open()}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	ft.in <- cmd(t, 0, "connect", 1, amf.NewObject("app", "live"))
	pos := 0
	ft.waitFor(t, &pos, "connect result", isCommand("_result"))

	res := make(chan *message.Command, 1)
	go func() {
		c, err := s.Invoke(ctx, "ping", "hello")
		if err != nil {
			t.Errorf("invoke: %v", err)
		}
		res <- c
	}()
	m := ft.waitFor(t, &pos, "server invoke", isCommand("ping"))
	c, _ := message.ParseCommand(m)
	ft.in <- cmd(t, 0, "_result", c.TxID, nil, "pong")
	select {
	case r := <-res:
		if r == nil || len(r.Args) == 0 || r.Args[0] != "pong" {
			t.Fatalf("result %+v", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("invoke result not delivered")
	}
	close(ft.in)
	<-done
}
