package whipload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/webrtc/plane"
)

// planeClient opens each session on a webrtc/plane of its own, in its
// dialling role (controlling ICE agent, DTLS client): the server tells
// sessions apart by their peer's address, so each needs a port, as each
// of a browser's RTCPeerConnections has. A plane of one session has one
// reader goroutine and a frame costs one encryption and one sendto.
type planeClient struct {
	mu     sync.Mutex
	planes []*plane.Plane
}

// planeHandshake bounds a session's ICE and DTLS from its offer: long,
// as a large run posts its offers a few at a time and a call's may be
// refused (403) for a few seconds first; the server's own bound is 2 min.
const planeHandshake = time.Minute

func newPlaneClient() (*planeClient, error) { return &planeClient{}, nil }

// listen opens one session's plane.
func (c *planeClient) listen() (*plane.Plane, error) {
	p, err := plane.Listen(plane.Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 1, Batch: 8, Handshake: planeHandshake})
	if err != nil {
		return nil, fmt.Errorf("whipload: %w", err)
	}
	c.mu.Lock()
	c.planes = append(c.planes, p)
	c.mu.Unlock()
	return p, nil
}

func (c *planeClient) Close() {
	c.mu.Lock()
	ps := c.planes
	c.planes = nil
	c.mu.Unlock()
	for _, p := range ps {
		p.Close()
	}
}

// format is codec as the plane's SDP writer takes it.
func format(codec string) (plane.Format, error) {
	cp, ok := Caps[codec]
	if !ok {
		return plane.Format{}, fmt.Errorf("whipload: no codec %q", codec)
	}
	_, name, _ := strings.Cut(cp.MimeType, "/")
	return plane.Format{PT: uint8(cp.PayloadType), Name: strings.ToLower(name), Clock: int(cp.ClockRate), Channels: int(cp.Channels)}, nil
}

// planePeer is one dialling session and, on a publisher, the header of
// its next packet.
type planePeer struct {
	s    *plane.Session
	hdr  rtp.Header
	step uint32 // RTP clock units per 20 ms frame
	sent bool
}

func (p *planePeer) Connected() bool {
	select {
	case <-p.s.Done(): // first: an ended session stays Connected()
		return false
	default:
	}
	select {
	case <-p.s.Connected():
		return true
	default:
		return false
	}
}

func (p *planePeer) Close() { p.s.Close() }

// WriteFrame sends payload as the next packet: sequence +1 and
// timestamp +20 ms each, the marker on the first (a talkspurt's start,
// RFC 3551 §4.1).
func (p *planePeer) WriteFrame(payload []byte) error {
	p.hdr.Marker = !p.sent
	if _, err := p.s.WriteRTP(&p.hdr, payload); err != nil {
		return err
	}
	p.sent = true
	p.hdr.SequenceNumber++
	p.hdr.Timestamp += p.step
	return nil
}

// Player is a recvonly dialling session in codec.
func (c *planeClient) Player(ctx context.Context, codec, url string, retryForbidden int, onPacket func(*rtp.Packet)) (Peer, error) {
	p, err := c.open(ctx, codec, url, "recvonly", retryForbidden, onPacket)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Publisher is a sendonly dialling session in codec, its SSRC, first
// sequence number and timestamp random (as a browser's).
func (c *planeClient) Publisher(ctx context.Context, codec, url string, retryForbidden int) (Publisher, error) {
	p, err := c.open(ctx, codec, url, "sendonly", retryForbidden, func(*rtp.Packet) {})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// open offers one codec in dir, posts the offer and starts checking the
// answer's candidates; the packets it sends carry the payload type the
// answer chose for the codec.
func (c *planeClient) open(ctx context.Context, codec, url, dir string, retryForbidden int, onRTP func(*rtp.Packet)) (*planePeer, error) {
	f, err := format(codec)
	if err != nil {
		return nil, err
	}
	pl, err := c.listen()
	if err != nil {
		return nil, err
	}
	s, err := pl.NewSession(true, onRTP)
	if err != nil {
		return nil, fmt.Errorf("whipload: %w", err)
	}
	p := &planePeer{s: s, step: uint32(f.Clock / 50),
		hdr: rtp.Header{Version: 2, SSRC: rand.Uint32(), SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	if err := p.negotiate(ctx, pl.Fingerprint(), f, dir, url, retryForbidden); err != nil {
		s.Close()
		return nil, err
	}
	return p, nil
}

func (p *planePeer) negotiate(ctx context.Context, fingerprint string, f plane.Format, dir, url string, retryForbidden int) error {
	offer := plane.WriteOffer(p.s.Local(), fingerprint, dir, []plane.Format{f}, p.hdr.SSRC)
	body, err := exchange(ctx, url, offer, retryForbidden)
	if err != nil {
		return err
	}
	d, err := plane.ParseSDP(body)
	if err != nil {
		return fmt.Errorf("answer of %s: %w", url, err)
	}
	pt, err := chosenPT(d, f)
	if err != nil {
		return fmt.Errorf("answer of %s: %w", url, err)
	}
	p.hdr.PayloadType = pt
	if err := p.s.Start(d.Remote, d.Candidates); err != nil {
		return fmt.Errorf("answer of %s: %w", url, err)
	}
	return nil
}

// chosenPT is the payload type the answer's audio section gives f's
// codec (the answerer may number it its own way).
func chosenPT(d plane.Description, f plane.Format) (uint8, error) {
	if d.Audio < 0 {
		return 0, errors.New("no audio section")
	}
	for _, a := range d.Sections[d.Audio].Formats {
		if a.Name == f.Name && a.Clock == f.Clock {
			return a.PT, nil
		}
	}
	return 0, fmt.Errorf("audio section has no %s/%d", f.Name, f.Clock)
}
