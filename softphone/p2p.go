package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// DefaultP2PTimeout is how long a p2p call waits for the far peer's audio
// over the direct session before it falls back to relay.
const DefaultP2PTimeout = 3 * time.Second

// Media modes a Result reports.
const (
	MediaP2P   = "p2p"
	MediaRelay = "relay"
)

// directPub is the publisher side of NetStream.DIRECT_CONNECTIONS: it
// serves the sessions peers open to this phone by its peer ID, answers
// connect, createStream and a play of the one stream name the call issued
// to us, and sends our audio to every such player. Each session's
// ServeRTMFP goroutine owns its reads; mu guards name and subs.
type directPub struct {
	log  *slog.Logger
	mu   sync.Mutex
	name string                 // the name a peer may play ("" none yet)
	subs map[*rtmfp.Conn]uint32 // players and their stream IDs
}

func newDirectPub(log *slog.Logger) *directPub {
	return &directPub{log: log, subs: map[*rtmfp.Conn]uint32{}}
}

func (d *directPub) allow(name string) {
	d.mu.Lock()
	d.name = name
	d.mu.Unlock()
}

// players reports how many peers play us directly.
func (d *directPub) players() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.subs)
}

// ServeRTMFP serves one peer's session.
func (d *directPub) ServeRTMFP(_ context.Context, c *rtmfp.Conn) {
	defer func() {
		d.mu.Lock()
		delete(d.subs, c)
		d.mu.Unlock()
	}()
	d.log.Info("peer connected directly", "peer", c.PeerID()[:16], "addr", c.RemoteAddr().String())
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return
		}
		if m.Type != message.TypeCommandAMF0 && m.Type != message.TypeCommandAMF3 {
			continue
		}
		cmd, err := message.ParseCommand(m)
		if err != nil {
			continue
		}
		var reply *message.Command
		switch cmd.Name {
		case "connect":
			reply = &message.Command{Name: "_result", TxID: cmd.TxID, Args: []any{status("NetConnection.Connect.Success", "status")}}
		case "createStream":
			reply = &message.Command{Name: "_result", TxID: cmd.TxID, Args: []any{1.0}}
		case "play":
			name, _ := firstString(cmd.Args)
			name, _, _ = strings.Cut(name, "?")
			d.mu.Lock()
			ok := name != "" && name == d.name
			if ok {
				d.subs[c] = m.StreamID
			}
			d.mu.Unlock()
			code, level := "NetStream.Play.Start", "status"
			if !ok {
				code, level = "NetStream.Play.StreamNotFound", "error"
			}
			reply = &message.Command{Name: "onStatus", Args: []any{status(code, level)}}
		default:
			continue
		}
		out, err := reply.MarshalMessage(m.StreamID)
		if err == nil {
			err = c.WriteMessage(out)
		}
		if err != nil {
			return
		}
	}
}

// write sends one audio message to every direct player (never blocking).
func (d *directPub) write(ts uint32, payload []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, id := range d.subs {
		_ = c.WriteMessage(&message.Message{Type: message.TypeAudio, Timestamp: ts, StreamID: id, Payload: payload})
	}
}

func status(code, level string) *amf.Object {
	return amf.NewObject("level", level, "code", code, "description", code)
}

func firstString(args []any) (string, bool) {
	if len(args) > 0 {
		s, ok := args[0].(string)
		return s, ok
	}
	return "", false
}

// playDirect opens a session to the far peer by its ID through the server,
// plays its stream there and waits for its first audio; the client it
// returns stays open for the call.
func (p *phone) playDirect(ctx context.Context, peerID, name string) (*rtmp.Client, error) {
	dc, err := p.mc.DialPeer(ctx, peerID)
	if err != nil {
		return nil, err
	}
	first := make(chan struct{})
	var once sync.Once
	cl, err := rtmp.NewClient(ctx, dc, &url.URL{Scheme: "rtmfp", Host: "peer", Path: "/p2p"}, rtmp.ClientOptions{
		Logger: p.log,
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio && len(m.Payload) >= 2 {
				once.Do(func() { close(first) })
				p.onAudio(m)
			}
		},
	})
	if err != nil {
		_ = dc.Close()
		return nil, err
	}
	id, err := cl.CreateStream(ctx)
	for err == nil {
		err = cl.Play(ctx, id, name)
		// The far phone may learn of the call a moment after us and not
		// publish yet: ask again until the p2p timeout (seen in CI).
		var se *rtmp.StatusError
		if !errors.As(err, &se) || se.Code != "NetStream.Play.StreamNotFound" {
			break
		}
		select {
		case <-ctx.Done():
			err = fmt.Errorf("peer never published %q: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
			err = nil
		}
	}
	if err == nil {
		select {
		case <-first:
		case <-ctx.Done():
			err = fmt.Errorf("no audio from the peer: %w", ctx.Err())
		}
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// announce sends setPeerInfo (our socket's address) so that the server
// introduces us to peers by our ID.
func (p *phone) announce() error {
	m, err := (&message.Command{Name: "setPeerInfo", Args: []any{p.mc.LocalAddr().String()}}).MarshalMessage(0)
	if err != nil {
		return err
	}
	return p.mc.WriteMessage(m)
}
