package sipbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// codecEchoPrefix starts an inbound target that answers and plays back
// what it hears after a round trip through a Flash codec:
// "echo:nellymoser" or "echo:speex". It does the media work of one
// SIP ↔ web call (G.711 decoded and encoded to the Flash codec, and
// back) without a web client, for load tests of transcoded calls.
const codecEchoPrefix = "echo:"

// codecEchoTarget parses "echo:CODEC" (a Flash codec).
func codecEchoTarget(target string) (codec.ID, bool) {
	name, ok := strings.CutPrefix(target, codecEchoPrefix)
	if !ok {
		return 0, false
	}
	id, ok := codec.ParseID(name)
	if !ok || (id != codec.Nellymoser && id != codec.Speex) {
		return 0, false
	}
	return id, true
}

// runSIPCodecEcho answers; the caller's audio is published on the hub,
// subscribed transcoded to flash, republished, and sent back transcoded
// to the call's codec by the same media bridge as a web user's call.
func (b *Bridge) runSIPCodecEcho(o offer, flash codec.ID, log *slog.Logger) {
	ch, err := o.Answer()
	if err != nil {
		log.Info("sip answer failed", "err", err)
		b.Stats.fail(488)
		return
	}
	var r [8]byte
	rand.Read(r[:])
	base := "sipecho/" + hex.EncodeToString(r[:])
	in, out := base+"/in", base+"/"+flash.String()
	pub, err := b.opts.Hub.Publish(out)
	if err != nil {
		log.Info("sip echo failed", "err", err)
		b.hangup(ch, log)
		return
	}
	defer pub.Close()
	loop, err := b.opts.Transcoder.Subscribe(in, transcode.Target{Codec: flash}, media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindAudio {
			pub.Write(f)
		}
	}))
	if err != nil {
		log.Info("sip echo failed", "err", err)
		b.hangup(ch, log)
		return
	}
	defer loop.Close()
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	log.Info("sip codec echo answered", "codec", ch.Codec().ID, "through", flash)
	m := &mediaBridge{ch: ch, hub: b.opts.Hub, tc: b.opts.Transcoder, pubKey: in, playKey: out, timeout: b.opts.RTPTimeout, jitter: b.opts.JitterBuffer,
		stats: &b.Stats, log: log, dtmf: make(chan string, 1)}
	err = m.run(b.ctx)
	switch {
	case errors.Is(err, errPeerHangup):
		_ = ch.Close()
	case errors.Is(err, context.Canceled):
		b.hangup(ch, log)
	default:
		log.Info("sip codec echo ended", "err", err)
		b.hangup(ch, log)
	}
}
