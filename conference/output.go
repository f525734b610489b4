package conference

import (
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/media"
)

// output encodes one member's mix and publishes it. It belongs to the
// mixer goroutine.
//
// A stream keeps one codec from its first frame to its last: players such
// as ffmpeg take an FLV codec change for a new stream they never output.
// So the codec is decided before the first frame and never changes after
// (the mixer decodes whatever codec the member itself sends): the codec of
// the join (JoinOptions.Codec), else, for a member whose own codec is
// worth waiting for (learn: SIP phones and call devices, which hear the mix
// transcoded to what they negotiated), the codec of its first audio if it
// comes within learnWait, else the room's default.
type output struct {
	learn      bool   // waiting for the member's own codec (see learnWait)
	waitFrom   uint32 // mixer clock when the wait began
	waiting    bool   // waitFrom is set
	started    bool   // the codec is decided: it never changes again
	id         codec.ID
	rate       int
	wantID     codec.ID // the codec decided, started at the next write
	wantRate   int
	fallback   codec.ID // the room's default, if wantID cannot be encoded
	enc        codec.Encoder
	rs         *resample.Resampler
	pend, rsb  []int16
	pkt        []byte
	baseMillis uint32 // timestamp of the encoder's first sample
	samples    int64  // samples encoded since baseMillis
	pub        *media.Publisher
	slab       frameSlab
	quiet      quiet
	own        bool // the member added audio: its own encoder serves it until the room is quiet (shared.go)
	complexity int  // Speex encoder complexity (Options.SpeexComplexity)
}

// learnWait is how long a learning output publishes nothing while it waits
// for the member's first audio; a SIP phone's RTP starts within a few
// round trips of the answer.
const learnWait = 1000 // ms

// want decides the mix's codec: id at rate (0: the codec's rate). It
// reports false, changing nothing, once the stream has started.
func (o *output) want(id codec.ID, rate int) bool {
	if o.started {
		return false
	}
	if rate == 0 {
		if in, ok := codec.Lookup(id); ok {
			rate = in.SampleRate
		}
	}
	o.wantID, o.wantRate = id, rate
	return true
}

// learned is the codec of the member's first audio: a learning output
// takes it if it has not started yet.
func (o *output) learned(id codec.ID, rate int) {
	if o.learn && o.want(id, rate) {
		o.learn = false
	}
}

// startCodec starts the encoder of id at rate; nowMillis is the stream's
// first timestamp.
func (o *output) startCodec(id codec.ID, rate int, nowMillis uint32) error {
	if in, ok := codec.Lookup(id); ok && rate == 0 {
		rate = in.SampleRate
	}
	enc, err := newMixEncoder(id, rate, o.complexity)
	if err != nil {
		return err
	}
	var rs *resample.Resampler
	if rate != MixRate {
		if rs, err = resample.New(MixRate, rate); err != nil {
			closeCodec(enc)
			return err
		}
	}
	o.enc, o.rs, o.id, o.rate = enc, rs, id, rate
	o.baseMillis, o.samples = nowMillis, 0
	return nil
}

// ready starts the decided codec at the first write and reports whether
// the mix may be published now. nowMillis is the mixer clock. A learning
// output is not ready until the member's codec is known or learnWait has
// passed; nothing is published meanwhile, so nothing has to change later.
func (o *output) ready(nowMillis uint32, log func(codec.ID, error)) bool {
	if !o.started {
		if o.learn {
			if !o.waiting {
				o.waitFrom, o.waiting = nowMillis, true
			}
			if nowMillis-o.waitFrom < learnWait {
				return false
			}
			o.learn = false // nothing heard in time: the default it is
		}
		o.started = true
		if err := o.startCodec(o.wantID, o.wantRate, nowMillis); err != nil {
			log(o.wantID, err)
			if o.fallback != 0 && o.fallback != o.wantID {
				if err := o.startCodec(o.fallback, 0, nowMillis); err != nil {
					log(o.fallback, err)
				}
			}
		}
	}
	return o.enc != nil && o.pub != nil
}

// mix publishes this mix (pcm, everyone but the member) for the member:
// from s, the room's shared encoders, until the member adds audio
// (addsNothing false), then from its own encoder until, adding nothing,
// it can return unheard (sharedMix.settledAs).
func (o *output) mix(s *sharedMix, pcm []int16, addsNothing bool, nowMillis uint32, log func(codec.ID, error)) {
	switch {
	case !addsNothing:
		o.own = true
	case o.own && s.settledAs(o):
		o.own = false
	}
	if !o.own && s.write(o, pcm, nowMillis, log) {
		return
	}
	o.write(pcm, nowMillis, log)
}

// write encodes 20 ms of mix (silence when pcm is nil) and publishes every
// full codec frame. nowMillis is the mixer clock.
func (o *output) write(pcm []int16, nowMillis uint32, log func(codec.ID, error)) {
	if !o.ready(nowMillis, log) {
		return
	}
	if o.rs != nil {
		o.rsb = o.rs.Resample(o.rsb[:0], pcm)
		pcm = o.rsb
	}
	o.pend = append(o.pend, pcm...)
	n := o.enc.FrameSamples()
	done := 0
	for ; len(o.pend)-done >= n; done += n {
		var err error
		o.pkt, err = o.quiet.encode(o.enc, o.pkt[:0], o.pend[done:done+n])
		if err == nil {
			ts := o.baseMillis + uint32(o.samples*1000/int64(o.rate))
			o.pub.Write(o.slab.frame(o.id, o.rate, ts, o.pkt))
		}
		o.samples += int64(n)
	}
	o.pend = o.pend[:copy(o.pend, o.pend[done:])]
}

func (o *output) close() {
	closeCodec(o.enc)
	o.enc, o.id, o.rate = nil, 0, 0
	if o.pub != nil {
		o.pub.Close()
		o.pub = nil
	}
}

// frameSlab carves output frames and their payloads out of shared blocks,
// so an output allocates two blocks per about 200 frames (4 s of audio)
// rather than two objects per frame. Frames are immutable once written, so sharing a block is safe.
type frameSlab struct {
	frames []media.Frame
	bytes  []byte
}

func (s *frameSlab) frame(id codec.ID, rate int, ts uint32, payload []byte) *media.Frame {
	if len(s.frames) == 0 {
		s.frames = make([]media.Frame, 256)
	}
	if len(s.bytes) < len(payload) {
		s.bytes = make([]byte, max(16<<10, len(payload)))
	}
	p := s.bytes[:len(payload):len(payload)]
	s.bytes = s.bytes[len(payload):]
	copy(p, payload)
	f := &s.frames[0]
	s.frames = s.frames[1:]
	*f = media.Frame{Kind: media.KindAudio, Codec: id, Rate: rate, Channels: 1, Timestamp: ts, Payload: p}
	return f
}
