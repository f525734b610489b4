package session

import (
	"context"
	"strings"
	"testing"

	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp/message"
)

// watchedApp admits everyone; its plays end when ends closes.
type watchedApp struct{ ends chan struct{} }

func (a *watchedApp) Connect(context.Context, *Session, *amf.Object, []any) (AppConn, error) {
	return &watchedConn{ends: a.ends}, nil
}

type watchedConn struct{ ends chan struct{} }

func (*watchedConn) Call(context.Context, string, []any) (any, error) { return nil, ErrUnknownMethod }
func (*watchedConn) Publish(name string) (string, error)              { return "room/" + name, nil }
func (*watchedConn) Play(name string) (string, error)                 { return "room/" + name, nil }
func (*watchedConn) Close()                                           {}
func (c *watchedConn) PlayEnds(string) <-chan struct{}                { return c.ends }

// TestPlayRevoked: when the application says a play's permission ended,
// the player gets Play.Stop at once and no more media; stopping the
// stream afterwards sends nothing more.
func TestPlayRevoked(t *testing.T) {
	hub := media.NewHub(64, nil)
	app := &watchedApp{ends: make(chan struct{})}
	h := startSessionWith(t, Options{Hub: hub, MaxStreams: 4, Apps: map[string]App{"room": app}})
	h.send(cmd(t, 0, "connect", 1, amf.NewObject("app", "room", "tcUrl", "rtmp://127.0.0.1/room")))
	h.expect("connect _result", isCommand("_result"))
	sid := h.createStream(2)
	h.send(cmd(t, sid, "play", 0, nil, "x"))
	h.expect("Play.Start", isStatus(codePlayStart))
	pub, err := hub.Publish("room/x")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Write(&media.Frame{Kind: media.KindAudio, Timestamp: 1, Codec: codec.Nellymoser, Rate: 16000, Channels: 1, Payload: []byte{1}})
	h.expect("audio before", func(m *message.Message) bool { return m.Type == message.TypeAudio })
	close(app.ends)
	m := h.expect("Play.Stop on revocation", isStatus(codePlayStop))
	c, _ := message.ParseCommand(m)
	if inf, _ := c.Args[0].(*amf.Object); inf == nil || !strings.Contains(inf.GetString("description"), "access ended") {
		t.Fatalf("revocation status %+v", c.Args)
	}
	testwait.For(t, 3*time.Second, "the subscription closed", func() bool { return hub.SubscriberCount("room/x") == 0 })
	after := h.pos
	pub.Write(&media.Frame{Kind: media.KindAudio, Timestamp: 2, Codec: codec.Nellymoser, Rate: 16000, Channels: 1, Payload: []byte{2}})
	h.send(cmd(t, sid, "closeStream", 0, nil))
	h.send(cmd(t, 0, "createStream", 3, nil))
	h.expect("createStream _result", isCommand("_result"))
	h.ft.mu.Lock()
	defer h.ft.mu.Unlock()
	for _, m := range h.ft.out[after:] {
		if m.Type == message.TypeAudio || isStatus(codePlayStop)(m) {
			t.Fatalf("after the revocation: %+v", m)
		}
	}
}

// TestUnknownAppRejected: a name not in Options.Apps is refused at connect.
func TestUnknownAppRejected(t *testing.T) {
	h := startSessionWith(t, Options{Hub: media.NewHub(64, nil), Apps: map[string]App{"live": Open()}})
	h.send(cmd(t, 0, "connect", 1, amf.NewObject("app", "conf", "tcUrl", "rtmp://127.0.0.1/conf")))
	m := h.expect("connect _error", isCommand("_error"))
	c, _ := message.ParseCommand(m)
	if inf, _ := c.Args[0].(*amf.Object); inf == nil || inf.GetString("code") != codeConnectRejected || inf.GetString("description") != "unknown application" {
		t.Fatalf("connect to conf: %+v", c.Args)
	}
}
