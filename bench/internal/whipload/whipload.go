// Package whipload is the browser side of the WebRTC load clients
// (bench/webrtc, bench/sipwebrtc): WHIP publishers and WHEP players on
// 127.0.0.1 offering one codec each, and the pass-through frames that
// carry their own index and send time.
//
// Two stacks open them (NewClient): "plane", webrtc/plane's dialling
// role, a plane (one UDP port, one reader goroutine) per session — the
// server tells sessions apart by their address — with no pion goroutines,
// so the client's own cost stays small beside the server's on a shared
// 2-core machine; and "pion", a pion PeerConnection
// per session (a browser's shape: its own port, ICE, DTLS and SRTP
// goroutines), the stack the earlier figures in BENCHMARKS.md were
// measured with.
package whipload

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Client opens a load's WHIP publishers and WHEP players.
type Client interface {
	// Player opens a receive-only session in codec at the WHEP url;
	// packets go to onPacket on a reader goroutine (it must not block,
	// and the packet is not the callee's after it returns). A 403 is
	// asked again every 100 ms, up to retryForbidden times.
	Player(ctx context.Context, codec, url string, retryForbidden int, onPacket func(*rtp.Packet)) (Peer, error)
	// Publisher opens a send-only session in codec at the WHIP url.
	Publisher(ctx context.Context, codec, url string, retryForbidden int) (Publisher, error)
	// Close ends what the client shares among its sessions (not the
	// sessions: their owners close them).
	Close()
}

// Peer is one session: connected once ICE and DTLS are done.
type Peer interface {
	Connected() bool
	Close()
}

// Publisher is a Peer that sends one 20 ms frame of its codec per
// WriteFrame, from one goroutine at a time.
type Publisher interface {
	Peer
	WriteFrame(payload []byte) error
}

// Clients are the stacks NewClient knows, for a flag's help.
const Clients = "plane or pion"

// NewClient opens the stack named: "plane" or "pion".
func NewClient(name string) (Client, error) {
	switch name {
	case "plane":
		return newPlaneClient()
	case "pion":
		return pionClient{}, nil
	}
	return nil, fmt.Errorf("whipload: client %q: %s", name, Clients)
}

// Up reports whether every peer exists and is connected.
func Up(peers ...Peer) bool {
	for _, p := range peers {
		if p == nil || !p.Connected() {
			return false
		}
	}
	return true
}

// Caps are the codecs a client offers, one per session, by name.
var Caps = map[string]webrtc.RTPCodecParameters{
	"pcmu": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
	"opus": {RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111},
}

// exchange posts offer to url and returns the answer. A 403 is asked
// again every 100 ms, up to retryForbidden times (a call's names are
// issued a moment after the answer); 0 takes it as the answer.
func exchange(ctx context.Context, url, offer string, retryForbidden int) (string, error) {
	for try := 0; ; try++ {
		status, body, err := post(ctx, url, offer)
		switch {
		case err != nil:
			return "", err
		case status == http.StatusForbidden && try < retryForbidden:
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		case status != http.StatusCreated:
			return "", fmt.Errorf("POST %s: %d %s", url, status, strings.TrimSpace(body))
		}
		return body, nil
	}
}

func post(ctx context.Context, url, sdp string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(sdp))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(b), nil
}

// Stamp is frame n of a pass-through stream: PCMU silence or an
// Opus-shaped packet (the TOC byte of a 20 ms CELT frame), its index and
// send time first (after the TOC byte for Opus). The server passes it
// through without decoding.
func Stamp(codec string, n uint32, now time.Time) []byte {
	if codec == "opus" {
		b := make([]byte, 60)
		b[0] = 0xF8
		binary.BigEndian.PutUint32(b[1:], n)
		binary.BigEndian.PutUint64(b[5:], uint64(now.UnixNano()))
		return b
	}
	b := make([]byte, 160)
	for i := range b {
		b[i] = 0xFF
	}
	binary.BigEndian.PutUint32(b, n)
	binary.BigEndian.PutUint64(b[4:], uint64(now.UnixNano()))
	return b
}
