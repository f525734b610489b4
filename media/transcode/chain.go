package transcode

import (
	"fmt"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/media"
)

// chain decodes whatever codec the input frames hold, resamples to the
// target rate and encodes target frames, stamping them from sample counts.
// It belongs to one goroutine and allocates nothing per frame once warm.
type chain struct {
	target codec.ID
	rate   int
	enc    codec.Encoder
	encErr error
	emit   func(ts uint32, pkt []byte) // pkt is only valid during the call

	// The current source: its codec and rate, decoder and resampler.
	srcID   codec.ID
	srcRate int
	dec     codec.Decoder
	rs      *resample.Resampler

	pcm, res, pend []int16 // decoded, resampled, waiting for a full frame
	pkt            []byte
	// lead is how many samples of silence the current run began with: as
	// many as the resampler holds back, so that each input frame completes
	// an output frame at once instead of one frame later (20 ms of delay on
	// every transcoded path). flush trims as many from the run's end.
	lead int

	// Timing: output sample n is stamped anchor + n·1000/rate ms; inMicros
	// is how much input has been decoded since the anchor.
	started    bool
	anchor     uint32
	outSamples int64
	inMicros   int64
}

func newChain(target codec.ID, rate int) *chain {
	c := &chain{target: target, rate: rate}
	c.enc, c.encErr = codecs.NewEncoder(target, rate)
	return c
}

// passes reports whether f is already in the target codec and rate, so it
// can be forwarded as it is (after a flush of any transcoded audio).
func (c *chain) passes(f *media.Frame) bool {
	return f.Codec == c.target && f.Rate == c.rate
}

// push transcodes one input frame, calling emit for every output frame.
// hist is f's PCM from the stream's history decoder, nil for none.
func (c *chain) push(f *media.Frame, hist []int16) error {
	if c.encErr != nil {
		return c.encErr
	}
	id, rate, pkt := f.Codec, f.Rate, f.Payload
	if id == 0 {
		return fmt.Errorf("%w: audio in a codec its publisher could not name", codec.ErrUnknownFormat)
	}
	if c.started {
		expect := c.anchor + uint32(c.inMicros/1000)
		if d := int32(f.Timestamp - expect); d > DiscontinuityMillis || d < -DiscontinuityMillis {
			c.flush()
		}
	}
	if id != c.srcID || rate != c.srcRate {
		if err := c.switchSource(id, rate); err != nil {
			return err
		}
	}
	if !c.started {
		c.started, c.anchor, c.outSamples, c.inMicros = true, f.Timestamp, 0, 0
		c.leadIn()
	}
	var (
		pcm []int16
		err error
	)
	if hist != nil {
		pcm = hist // decoded by the stream's history decoder (history.go)
	} else {
		c.pcm, err = c.dec.Decode(c.pcm[:0], pkt)
		pcm = c.pcm
	}
	c.inMicros += int64(len(pcm)) * 1e6 / int64(c.srcRate)
	c.resampleAndEncode(pcm)
	return err
}

// switchSource starts decoding another codec; what the old one left in the
// resampler is kept so the audio stays continuous.
func (c *chain) switchSource(id codec.ID, rate int) error {
	if c.rs != nil {
		c.pend = c.rs.Flush(c.pend)
		c.rs = nil
	}
	closeCodec(c.dec)
	c.dec, c.srcID, c.srcRate = nil, 0, 0
	dec, err := codecs.NewDecoder(id, rate)
	if err != nil {
		return fmt.Errorf("cannot decode the source: %w", err)
	}
	if rate != c.rate {
		if c.rs, err = resample.New(rate, c.rate); err != nil {
			closeCodec(dec)
			return err
		}
	}
	c.dec, c.srcID, c.srcRate = dec, id, rate
	if c.started {
		c.leadIn() // the new resampler holds back its own samples
	}
	return nil
}

// leadIn puts the resampler's hold-back, in output samples, before the
// audio to come.
func (c *chain) leadIn() {
	if c.rs == nil {
		return
	}
	n := (c.rs.Latency()*c.rate + c.srcRate - 1) / c.srcRate
	for range n {
		c.pend = append(c.pend, 0)
	}
	c.lead += n
}

func (c *chain) resampleAndEncode(pcm []int16) {
	if c.rs != nil {
		c.res = c.rs.Resample(c.res[:0], pcm)
		pcm = c.res
	}
	c.pend = append(c.pend, pcm...)
	c.encodePending()
}

// encodePending encodes every full frame waiting in pend.
func (c *chain) encodePending() {
	n := c.enc.FrameSamples()
	done := 0
	for ; len(c.pend)-done >= n; done += n {
		var err error
		c.pkt, err = c.enc.Encode(c.pkt[:0], c.pend[done:done+n])
		if err == nil && c.emit != nil {
			c.emit(c.anchor+uint32(c.outSamples*1000/int64(c.rate)), c.pkt)
		}
		c.outSamples += int64(n)
	}
	c.pend = c.pend[:copy(c.pend, c.pend[done:])]
}

// flush ends the current run of audio: what the resampler holds and the
// last partial frame (padded with silence) are sent, and the next input
// frame anchors the timestamps afresh.
func (c *chain) flush() {
	if !c.started || c.enc == nil {
		return
	}
	if c.rs != nil {
		c.pend = c.rs.Flush(c.pend)
		c.rs.Reset()
	}
	c.pend = c.pend[:len(c.pend)-min(c.lead, len(c.pend))] // the run keeps its length
	c.lead = 0
	if r := len(c.pend) % c.enc.FrameSamples(); r != 0 {
		for range c.enc.FrameSamples() - r {
			c.pend = append(c.pend, 0)
		}
	}
	c.encodePending()
	c.started = false
}

// reset forgets the source entirely (a new publisher).
func (c *chain) reset() {
	c.flush()
	closeCodec(c.dec)
	c.dec, c.rs, c.srcID, c.srcRate = nil, nil, 0, 0
	c.pend, c.lead = c.pend[:0], 0
}

func (c *chain) close() {
	closeCodec(c.dec)
	closeCodec(c.enc)
}
