package main

import (
	"context"
	"time"

	"github.com/flashvox/flashvox/bench/internal/whipload"
	"github.com/pion/rtp"
)

// The browser side of each call: a pion WHEP player and WHIP publisher,
// as a web page in a call opens them (/phone/USER/whep and /whip).

// startPlayer opens c's WHEP player; packets go to c.down.
func (r *runState) startPlayer(ctx context.Context, c *benchCall, url string) error {
	var err error
	if c.play, err = whipload.Player(r.browserCodec, func(p *rtp.Packet) {
		c.down.receive(r.passThrough, r.browserCodec, p.Timestamp, p.Payload, time.Now())
	}); err != nil {
		return err
	}
	return whipload.Negotiate(ctx, c.play, url, forbiddenRetries)
}

// startPublisher opens c's WHIP publisher.
func (r *runState) startPublisher(ctx context.Context, c *benchCall, url string) error {
	var err error
	if c.pub, c.track, err = whipload.Publisher(r.browserCodec); err != nil {
		return err
	}
	return whipload.Negotiate(ctx, c.pub, url, forbiddenRetries)
}

// forbiddenRetries: a 403 (the call's names not issued yet) is asked again
// for a few seconds.
const forbiddenRetries = 50
