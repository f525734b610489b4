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
//
// Opus is rate-agnostic on the wire (its RTP clock is 48 kHz whatever the
// audio inside, RFC 7587), and libopus encodes and decodes at 8, 12, 16,
// 24 or 48 kHz itself. So an Opus encoder runs at the source's rate (a
// phone's 8 kHz PCMU is encoded as 8 kHz, not resampled to 48 kHz first:
// no resampler, and a narrowband encoder costs a third), and an Opus
// decoder decodes at the target's rate (8 kHz for PCMU); see opusRate.
// Output frames keep the target's label rate (Opus: 48000) and timestamps
// in milliseconds, so nothing downstream sees the difference.
type chain struct {
	target  codec.ID
	rate    int // the target's label rate, as in Key and the output frames
	encRate int // the rate the encoder runs at: rate, or Opus's per source
	enc     codec.Encoder
	encErr  error
	emit    func(ts uint32, pkt []byte) // pkt is only valid during the call

	// The current source: its codec and label rate, the rate it is decoded
	// at, decoder and resampler (decRate → encRate).
	srcID   codec.ID
	srcRate int
	decRate int
	dec     codec.Decoder
	rs      *resample.Resampler

	pcm, res, pend []int16 // decoded, resampled, waiting for a full frame
	// lastMicros is how long the last packet decoded was: a gap in the
	// input of whole packets is filled (fillGap).
	lastMicros int64
	stats      *Stats // the lost frames filled are counted here (nil: nowhere)
	loss       int    // the receivers' loss, in percent, for the encoder (setLoss)
	pkt        []byte
	// lead is how many samples of silence the current run began with: as
	// many as the resampler holds back, so that each input frame completes
	// an output frame at once instead of one frame later (20 ms of delay on
	// every transcoded path). flush trims as many from the run's end.
	lead int

	// Timing: output sample n is stamped anchor + n·1000/encRate ms; inMicros
	// is how much input has been decoded since the anchor.
	started    bool
	anchor     uint32
	outSamples int64
	inMicros   int64
}

func newChain(target codec.ID, rate int) *chain {
	c := &chain{target: target, rate: rate, encRate: rate}
	c.enc, c.encErr = codecs.NewEncoder(target, rate)
	return c
}

// opusRate is the rate libopus runs at for audio at rate: the lowest of
// its rates that holds rate's band (8000 → 8000, 11025 → 12000, 44100 →
// 48000).
func opusRate(rate int) int {
	for _, r := range codecs.Rates(codec.Opus) {
		if r >= rate {
			return r
		}
	}
	return 48000
}

// ratesFor returns the rates a source of id at rate is decoded at and the
// encoder then runs at.
func (c *chain) ratesFor(id codec.ID, rate int) (dec, enc int) {
	dec, enc = rate, c.rate
	if id == codec.Opus {
		dec = opusRate(c.rate)
	}
	if c.target == codec.Opus {
		enc = opusRate(dec)
	}
	return dec, enc
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
	var gap int32 // ms of input missing before f
	if c.started {
		expect := c.anchor + uint32(c.inMicros/1000)
		if d := int32(f.Timestamp - expect); d > DiscontinuityMillis || d < -DiscontinuityMillis {
			c.flush()
		} else {
			gap = d
		}
	}
	if id != c.srcID || rate != c.srcRate {
		if err := c.switchSource(id, rate); err != nil {
			return err
		}
		gap = 0
	}
	if !c.started {
		c.started, c.anchor, c.outSamples, c.inMicros = true, f.Timestamp, 0, 0
		c.leadIn()
		gap = 0
	}
	var (
		pcm []int16
		err error
	)
	if hist != nil {
		pcm = hist // decoded by the stream's history decoder (history.go)
	} else {
		if gap > 0 {
			c.fillGap(gap, pkt)
		}
		c.pcm, err = c.dec.Decode(c.pcm[:0], pkt)
		pcm = c.pcm
	}
	if len(pcm) > 0 {
		c.lastMicros = c.micros(pcm)
	}
	c.inMicros += c.micros(pcm)
	c.resampleAndEncode(pcm)
	return err
}

// fillGap fills gapMs of input lost before the packet next (its
// timestamp runs ahead of the audio decoded, by less than
// DiscontinuityMillis; codec.FillGap) so that the output keeps the
// input's timeline instead of closing the gap: a click, and every later
// frame stamped early.
func (c *chain) fillGap(gapMs int32, next []byte) {
	c.pcm = codec.FillGap(c.dec, c.pcm, int64(gapMs)*1000, c.lastMicros, next, func(pcm []int16, recovered bool) {
		if c.stats != nil {
			if recovered {
				c.stats.RecoveredFrames.Add(1)
			} else {
				c.stats.ConcealedFrames.Add(1)
			}
		}
		c.inMicros += c.micros(pcm)
		c.resampleAndEncode(pcm)
	})
}

// micros is how long decoded pcm lasts.
func (c *chain) micros(pcm []int16) int64 { return int64(len(pcm)) * 1e6 / int64(c.decRate) }

// setLoss tells the encoder the loss its receivers report, if it can
// protect its packets against it (codec.LossTuner: Opus in-band FEC).
func (c *chain) setLoss(pct int) {
	c.loss = pct
	if lt, ok := c.enc.(codec.LossTuner); ok {
		_ = lt.SetLossPercent(pct) // libopus refuses nothing in 0–100
	}
}

// switchSource starts decoding another codec; what the old one left in the
// resampler is kept so the audio stays continuous. A source that needs the
// Opus encoder at another rate ends the run first (the audio so far is
// encoded at the old rate; the new run anchors afresh).
func (c *chain) switchSource(id codec.ID, rate int) error {
	decRate, encRate := c.ratesFor(id, rate)
	if encRate != c.encRate {
		c.flush() // sends what the old resampler held
		closeCodec(c.enc)
		c.rs, c.pend, c.lead = nil, c.pend[:0], 0
		c.enc, c.encErr = codecs.NewEncoder(c.target, encRate)
		if c.encErr != nil {
			return c.encErr
		}
		if c.loss > 0 {
			c.setLoss(c.loss) // the new encoder protects as the old one did
		}
		c.encRate = encRate
	}
	if c.rs != nil {
		c.pend = c.rs.Flush(c.pend)
		c.rs = nil
	}
	closeCodec(c.dec)
	c.dec, c.srcID, c.srcRate, c.decRate, c.lastMicros = nil, 0, 0, 0, 0
	dec, err := codecs.NewDecoder(id, decRate)
	if err != nil {
		return fmt.Errorf("cannot decode the source: %w", err)
	}
	if decRate != c.encRate {
		if c.rs, err = resample.New(decRate, c.encRate); err != nil {
			closeCodec(dec)
			return err
		}
	}
	c.dec, c.srcID, c.srcRate, c.decRate = dec, id, rate, decRate
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
	n := (c.rs.Latency()*c.encRate + c.decRate - 1) / c.decRate
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
			c.emit(c.anchor+uint32(c.outSamples*1000/int64(c.encRate)), c.pkt)
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
	c.dec, c.rs, c.srcID, c.srcRate, c.decRate = nil, nil, 0, 0, 0
	c.pend, c.lead = c.pend[:0], 0
}

func (c *chain) close() {
	closeCodec(c.dec)
	closeCodec(c.enc)
}
