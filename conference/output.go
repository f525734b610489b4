package conference

import (
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/media"
)

// output encodes one member's mix and publishes it. It belongs to the
// mixer goroutine.
type output struct {
	learn      bool // follow the codec of the member's own audio
	id         codec.ID
	rate       int
	wantID     codec.ID // the codec asked for, applied at the next write
	wantRate   int
	enc        codec.Encoder
	rs         *resample.Resampler
	header     []byte
	pend, rsb  []int16
	pkt        []byte
	baseMillis uint32 // timestamp of the encoder's first sample
	samples    int64  // samples encoded since baseMillis
	pub        *media.Publisher
	slab       frameSlab
	failed     codec.ID // an encoder that could not start, logged once
	quiet      quiet
	complexity int // Speex encoder complexity (Options.SpeexComplexity)
}

// want asks for the mix in id at rate (0: the codec's rate).
func (o *output) want(id codec.ID, rate int) {
	if rate == 0 {
		if in, ok := codec.Lookup(id); ok {
			rate = in.SampleRate
		}
	}
	o.wantID, o.wantRate = id, rate
}

// header returns what precedes each packet of id at rate in a frame.
func audioHeader(id codec.ID, rate int) ([]byte, error) {
	in, ok := codec.Lookup(id)
	if !ok {
		return nil, codec.ErrUnknownFormat
	}
	if in.FLVFormat == codec.NoFLV {
		return []byte{media.NonFLV, byte(id)}, nil
	}
	b, err := codec.FLVAudioHeader(id, rate)
	if err != nil {
		return nil, err
	}
	return []byte{b}, nil
}

// switchCodec starts the encoder asked for; nowMillis keeps the stream's
// timestamps continuous across the switch.
func (o *output) switchCodec(nowMillis uint32) error {
	id, rate := o.wantID, o.wantRate
	hdr, err := audioHeader(id, rate)
	if err != nil {
		return err
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
	closeCodec(o.enc)
	o.enc, o.rs, o.header, o.id, o.rate = enc, rs, hdr, id, rate
	o.pend = o.pend[:0]
	o.quiet = quiet{pkt: o.quiet.pkt[:0]}
	o.baseMillis, o.samples = nowMillis, 0
	return nil
}

// prepare starts the codec asked for, if it changed. nowMillis is the
// mixer clock.
func (o *output) prepare(nowMillis uint32, log func(codec.ID, error)) {
	if o.wantID != o.id || o.wantRate != o.rate {
		if err := o.switchCodec(nowMillis); err != nil {
			if o.failed != o.wantID {
				o.failed = o.wantID
				log(o.wantID, err)
			}
			o.wantID, o.wantRate = o.id, o.rate // keep the old one
		}
	}
}

// write encodes 20 ms of mix (silence when pcm is nil) and publishes every
// full codec frame. nowMillis is the mixer clock.
func (o *output) write(pcm []int16, nowMillis uint32, log func(codec.ID, error)) {
	o.prepare(nowMillis, log)
	if o.enc == nil || o.pub == nil {
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
		o.pkt = append(o.pkt[:0], o.header...)
		var err error
		o.pkt, err = o.quiet.encode(o.enc, o.pkt, len(o.header), o.pend[done:done+n])
		if err == nil {
			ts := o.baseMillis + uint32(o.samples*1000/int64(o.rate))
			o.pub.Write(o.slab.frame(ts, o.pkt))
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

func (s *frameSlab) frame(ts uint32, payload []byte) *media.Frame {
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
	*f = media.Frame{Kind: media.KindAudio, Timestamp: ts, Payload: p}
	return f
}
