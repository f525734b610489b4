package conference

import (
	"io"
	"log/slog"
	"sync"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/media"
)

// inputQueue is how many frames a member's input holds between two mixes
// (320 ms of 20 ms frames); more is a stalled mixer, and the oldest go.
const inputQueue = 16

// silenceLevel is the mean absolute sample value under which a member's
// frame counts as silence and is left out of the mix (about -72 dBFS).
const silenceLevel = 8

// input is one member's side of a mixed room. The hub's sink (push, on the
// publisher's goroutine) fills a small ring under mu; everything else
// belongs to the mixer goroutine.
type input struct {
	m   *Member
	sub *media.Subscriber
	log *slog.Logger

	mu   sync.Mutex
	ring [inputQueue]*media.Frame
	head int
	n    int
	lost uint64

	// Mixer-owned from here on.
	started   bool
	frames    []*media.Frame
	dec       codec.Decoder
	decID     codec.ID
	decRate   int
	rs        *resample.Resampler
	pcm, rsb  []int16
	buf       []int16 // decoded 16 kHz audio waiting to be mixed
	frame     []int16 // this mix's share, FrameSamples long
	playing   bool    // buf reached the jitter target; cleared by an underrun
	prebuffer int     // samples buffered before playing
	maxDepth  int     // samples beyond which buf is trimmed to prebuffer
	lastTS    uint32
	haveTS    bool
	lastUS    int64    // length of the last packet decoded, µs (0: none yet)
	badCodec  codec.ID // logged once
	out       output
	level     int64 // mean absolute sample value of the last mixed frame
	talking   bool
	quiet     int // frames below the talk threshold since the last loud one
	held      int // mixes since the standing-delay check began (trimStanding)
	minLeft   int // fewest samples left beyond the target after a mix, over held
}

func newInput(m *Member, h *media.Hub, prefix string, o Options) *input {
	in := &input{m: m, log: m.room.log.With("member", m.ID), frames: make([]*media.Frame, 0, inputQueue),
		frame: make([]int16, FrameSamples)}
	frames := max(1, int((o.Jitter+FrameDuration-1)/FrameDuration))
	in.prebuffer = frames * FrameSamples
	in.maxDepth = in.prebuffer + 3*FrameSamples
	// The mix's codec (see output): the join's, else the room's default,
	// which a SIP phone or a call device may replace by its own codec
	// before the first frame.
	def := m.room.codec
	if def == 0 {
		def = o.Codec
	}
	id, rate := m.codec, m.rate
	in.out.learn = id == 0 && (m.Kind == KindSIP || m.Kind == KindCall)
	in.out.complexity = o.SpeexComplexity
	in.out.fallback = def
	if id == 0 {
		id = def
	}
	in.out.want(id, rate)
	in.sub = h.Subscribe(prefix+m.pub, media.ReceiverFunc(in.push))
	return in
}

// push is the hub receiver: it never blocks; a full ring loses its oldest frame.
func (in *input) push(f *media.Frame) {
	if f.Kind != media.KindAudio && f.Kind != media.KindPublish {
		return
	}
	in.mu.Lock()
	if in.n == len(in.ring) {
		in.ring[in.head] = nil
		in.head = (in.head + 1) % len(in.ring)
		in.n--
		in.lost++
	}
	in.ring[(in.head+in.n)%len(in.ring)] = f
	in.n++
	in.mu.Unlock()
}

// drain moves the queued frames to in.frames.
func (in *input) drain() (lost uint64) {
	in.mu.Lock()
	for ; in.n > 0; in.n-- {
		in.frames = append(in.frames, in.ring[in.head])
		in.ring[in.head] = nil
		in.head = (in.head + 1) % len(in.ring)
	}
	lost, in.lost = in.lost, 0
	in.mu.Unlock()
	return lost
}

// take decodes what arrived since the last mix and returns this mix's 20
// ms of the member's audio, or nil for silence (nothing buffered, muted,
// or quieter than silenceLevel). It allocates nothing once warm.
func (in *input) take(st *Stats) []int16 {
	st.Late.Add(in.drain())
	muted := in.m.muted.Load()
	for i, f := range in.frames {
		in.frames[i] = nil
		if muted {
			continue
		}
		if f.Kind == media.KindPublish {
			in.resetSource()
			continue
		}
		in.decode(f, st)
	}
	in.frames = in.frames[:0]
	if muted {
		in.buf, in.playing, in.level = in.buf[:0], false, 0
		return nil
	}
	if len(in.buf) > in.maxDepth { // a burst after a stall: keep the newest
		cut := len(in.buf) - in.prebuffer
		st.Late.Add(uint64(cut / FrameSamples))
		in.buf = in.buf[:copy(in.buf, in.buf[cut:])]
	}
	if !in.playing {
		if len(in.buf) < in.prebuffer {
			in.level = 0
			return nil
		}
		in.playing, in.held = true, 0 // a fresh start of the standing-delay check
	}
	if len(in.buf) == 0 {
		in.playing, in.level = false, 0
		if in.talking {
			st.Underruns.Add(1)
		}
		return nil
	}
	n := copy(in.frame, in.buf)
	clear(in.frame[n:])
	in.buf = in.buf[:copy(in.buf, in.buf[n:])]
	if n < FrameSamples {
		in.playing = false
	} else {
		in.trimStanding(st)
	}
	var sum int64
	for _, v := range in.frame {
		if v < 0 {
			sum -= int64(v)
		} else {
			sum += int64(v)
		}
	}
	in.level = sum / FrameSamples
	if in.level < silenceLevel {
		return nil
	}
	return in.frame
}

// Standing delay: a burst of arrivals (a sender catching up, a stall in
// the network or on the machine) leaves audio in buf that every later frame
// waits behind, and a buffer that only empties on an underrun keeps that
// delay for the whole call. So when buf held more than its target at every
// mix for standingMixes mixes, the surplus is pure delay and the oldest of it
// goes: the playout delay follows the jitter down as well as up (adaptive
// playout, as in Ramjee et al., "Adaptive playout mechanisms for packetized
// audio applications in wide-area networks", INFOCOM 1994).
const (
	standingMixes = 25               // 500 ms of mixes
	standingMin   = FrameSamples / 4 // 5 ms: less is left alone
)

// trimStanding runs after a mix took a full frame from buf.
func (in *input) trimStanding(st *Stats) {
	left := len(in.buf) - (in.prebuffer - FrameSamples) // the target after a mix
	if in.held == 0 || left < in.minLeft {
		in.minLeft = left
	}
	if in.held++; in.held < standingMixes {
		return
	}
	in.held = 0
	if in.minLeft >= standingMin {
		in.buf = in.buf[:copy(in.buf, in.buf[in.minLeft:])]
		st.Late.Add(uint64((in.minLeft + FrameSamples - 1) / FrameSamples))
	}
}

// maxFillMicros is the longest gap in a member's timestamps filled as
// lost packets; a longer one is a pause (silence suppression, a new
// publisher).
const maxFillMicros = 100_000

// decode appends f's audio, at MixRate, to buf. A frame stamped before the
// last one is late (or repeated) and dropped. Packets lost before f (its
// timestamp past the end of the last one by whole packets) are filled
// first (codec.FillGap): the one before f from f's in-band FEC
// (Opus), the others concealed, so the member's audio keeps its length.
func (in *input) decode(f *media.Frame, st *Stats) {
	if in.haveTS && int32(f.Timestamp-in.lastTS) < 0 {
		st.Late.Add(1)
		return
	}
	var gap int64
	if in.haveTS {
		gap = int64(int32(f.Timestamp-in.lastTS))*1000 - in.lastUS
	}
	in.lastTS, in.haveTS = f.Timestamp, true
	id, rate, pkt := f.Codec, f.Rate, f.Payload
	if id == 0 {
		return // a codec its publisher could not name
	}
	if id != in.decID || rate != in.decRate {
		if !in.switchSource(id, rate) {
			return
		}
		gap = 0
	}
	if gap > 0 && gap < maxFillMicros {
		in.pcm = codec.FillGap(in.dec, in.pcm, gap, in.lastUS, pkt, func(pcm []int16, recovered bool) {
			if recovered {
				st.Recovered.Add(1)
			} else {
				st.Concealed.Add(1)
			}
			in.add(pcm)
		})
	}
	var err error
	in.pcm, err = in.dec.Decode(in.pcm[:0], pkt)
	if err != nil && len(in.pcm) == 0 {
		return
	}
	in.lastUS = int64(len(in.pcm)) * 1e6 / int64(in.dec.SampleRate())
	in.add(in.pcm)
}

// add appends decoded audio to buf, at MixRate.
func (in *input) add(pcm []int16) {
	if in.rs != nil {
		in.rsb = in.rs.Resample(in.rsb[:0], pcm)
		pcm = in.rsb
	}
	in.buf = append(in.buf, pcm...)
}

// switchSource starts decoding another codec; a mix still waiting for the
// member's codec (output.learned) takes it.
func (in *input) switchSource(id codec.ID, rate int) bool {
	in.closeDecoder()
	dec, err := codecs.NewDecoder(id, rate)
	if err != nil {
		if in.badCodec != id {
			in.badCodec = id
			in.log.Warn("member audio cannot be mixed", "codec", id, "rate", rate, "err", err)
		}
		return false
	}
	if rate != MixRate {
		if in.rs, err = resample.New(rate, MixRate); err != nil {
			closeCodec(dec)
			return false
		}
	}
	in.dec, in.decID, in.decRate, in.lastUS = dec, id, rate, 0
	in.out.learned(id, rate)
	return true
}

// resetSource forgets the decoder and buffered audio: a new publisher.
func (in *input) resetSource() {
	in.closeDecoder()
	in.buf, in.playing, in.haveTS = in.buf[:0], false, false
}

func (in *input) closeDecoder() {
	closeCodec(in.dec)
	in.dec, in.decID, in.decRate, in.rs = nil, 0, 0, nil
}

// close frees the member's codecs and ends its mix stream.
func (in *input) close() {
	in.closeDecoder()
	in.out.close()
}

// closeCodec frees what a codec holds outside Go memory (Speex).
func closeCodec(c any) {
	if cl, ok := c.(io.Closer); ok {
		_ = cl.Close()
	}
}
