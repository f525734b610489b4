package rtmp

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/rtmp/message"
)

// swallowHandler answers connect/createStream/publish and keeps every audio
// message to itself, as a server does for a peer that only publishes.
type swallowHandler struct{}

func (swallowHandler) ServeRTMP(_ context.Context, c *Conn) {
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return
		}
		if m.Type != message.TypeCommandAMF0 {
			continue
		}
		cmd, err := message.ParseCommand(m)
		if err != nil {
			return
		}
		var out *message.Command
		switch cmd.Name {
		case "connect":
			out = &message.Command{Name: "_result", TxID: cmd.TxID, Args: []any{status("NetConnection.Connect.Success")}}
		case "createStream":
			out = &message.Command{Name: "_result", TxID: cmd.TxID, Args: []any{1.0}}
		case "publish":
			out = &message.Command{Name: "onStatus", Args: []any{status("NetStream.Publish.Start")}}
		default:
			continue
		}
		om, _ := out.MarshalMessage(m.StreamID)
		c.WriteMessage(om)
	}
}

// TestPublisherIsKeptAlive: a client that only publishes hears nothing from
// the server but pings; with read timeouts shorter than the publication,
// neither side may drop the connection.
func TestPublisherIsKeptAlive(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	cfg := ConnConfig{ReadTimeout: time.Second, PingInterval: 200 * time.Millisecond}
	ts := startServer(t, cfg, swallowHandler{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.url, ClientOptions{Config: ConnConfig{ReadTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := c.CreateStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, id, "a", "live"); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		<-tick.C
		if err := c.WriteAudio(id, 0, []byte{0x42, 1}); err != nil {
			t.Fatalf("publisher dropped after %s: %v", 3*time.Second-time.Until(end), err)
		}
	}
	select {
	case <-c.Conn().Done():
		t.Fatalf("connection ended: %v", c.Conn().Err())
	default:
	}
}
