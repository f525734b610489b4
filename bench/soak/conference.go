package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// speexTone is one second of a tone at freq Hz as 50 Speex tags (the
// mixer decodes what members send, so conference audio must be real).
func speexTone(freq float64) ([][]byte, error) {
	enc, err := codecs.NewEncoder(codec.Speex, 16000)
	if err != nil {
		return nil, err
	}
	if c, ok := enc.(io.Closer); ok {
		defer c.Close()
	}
	n := enc.FrameSamples()
	var out [][]byte
	for k := range 50 {
		pcm := make([]int16, n)
		for i := range pcm {
			pcm[i] = int16(3000 * math.Sin(2*math.Pi*freq*float64(k*n+i)/16000))
		}
		pkt, err := enc.Encode([]byte{speexTag}, pcm)
		if err != nil {
			return nil, err
		}
		out = append(out, pkt)
	}
	return out, nil
}

// member joins the mixed room as member<i>, publishes its tone and plays
// its mix into tr until ctx ends.
func member(ctx context.Context, url, room string, i int, tr *track) {
	frames, err := speexTone(300 + 100*float64(i))
	if err != nil {
		tr.fail("speex: " + err.Error())
		return
	}
	user := fmt.Sprintf("member%d", i)
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{
		ConnectArgs: []any{user, user},
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio && len(m.Payload) > 1 {
				tr.add(time.Now(), m.Timestamp, time.Time{})
			}
		},
	})
	if err != nil {
		tr.fail("connect: " + err.Error())
		return
	}
	defer c.Close()
	if err := joinAndSend(ctx, c, room, frames); err != nil && ctx.Err() == nil {
		tr.fail(err.Error())
	}
}

func joinAndSend(ctx context.Context, c *rtmp.Client, room string, frames [][]byte) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.Call(cctx, "joinConference", room, amf.NewObject("mode", "mixed"))
	if err != nil {
		return fmt.Errorf("joinConference: %w", err)
	}
	var j *amf.Object
	if len(res.Args) > 0 {
		j, _ = res.Args[0].(*amf.Object)
	}
	if j == nil || j.GetString("mode") != "mixed" {
		return errors.New("joinConference: no mixed room")
	}
	ps, err := c.CreateStream(cctx)
	if err != nil {
		return err
	}
	if err := c.Publish(cctx, ps, j.GetString("publish"), "live"); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	ss, err := c.CreateStream(cctx)
	if err != nil {
		return err
	}
	if err := c.Play(cctx, ss, j.GetString("play")); err != nil {
		return fmt.Errorf("play mix: %w", err)
	}
	start := time.Now()
	t := time.NewTicker(frameDur)
	defer t.Stop()
	for n := 0; ; {
		due := int(time.Since(start)/frameDur) + 1
		for ; n < due; n++ {
			if err := c.WriteAudio(ps, uint32(n*20), frames[n%len(frames)]); err != nil {
				return fmt.Errorf("send: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.Done():
			return fmt.Errorf("disconnected: %v", c.Err())
		case <-t.C:
		}
	}
}
