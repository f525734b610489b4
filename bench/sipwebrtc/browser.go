package main

import (
	"context"
	"time"

	"github.com/pion/rtp"
)

// The browser side of each call: a WHEP player and WHIP publisher (of
// the -client stack), as a web page in a call opens them
// (/phone/USER/whep and /whip).

// startPlayer opens c's WHEP player; packets go to c.down.
func (r *runState) startPlayer(ctx context.Context, c *benchCall, url string) error {
	var err error
	c.play, err = r.client.Player(ctx, r.browserCodec, url, forbiddenRetries, func(p *rtp.Packet) {
		c.down.receive(r.passThrough, r.browserCodec, p.Timestamp, p.Payload, time.Now())
	})
	return err
}

// startPublisher opens c's WHIP publisher.
func (r *runState) startPublisher(ctx context.Context, c *benchCall, url string) error {
	var err error
	c.pub, err = r.client.Publisher(ctx, r.browserCodec, url, forbiddenRetries)
	return err
}

// forbiddenRetries: a 403 (the call's names not issued yet) is asked again
// for a few seconds.
const forbiddenRetries = 50
