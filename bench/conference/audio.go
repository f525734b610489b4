package main

import (
	"fmt"
	"math"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
)

// The audio every participant sends: one cycle of cycleFrames 20 ms Speex
// frames (16 kHz), encoded once up front and replayed in a loop. It is a
// quiet background tone (above the mixer's silence threshold, so every
// member is decoded and mixed) with a loud tone burst — the latency marker —
// starting exactly at sample 0 of frame 0. Member j of a room replays the
// cycle shifted by j slots, so a room has one burst every slot, each from a
// known member at a known send time.
const (
	rate          = 16000
	frameMillis   = 20
	frameSamples  = rate * frameMillis / 1000
	slotFrames    = 25  // one burst per room every 500 ms
	burstFrames   = 5   // 100 ms of marker tone
	backgroundAmp = 100 // about -50 dBFS: mixed, yet 49 of them stay far below the threshold
	burstAmp      = 16000
	onsetLevel    = 8000 // |sample| above this, after quietFrames quiet frames, is a marker onset
	quietFrames   = 10   // 200 ms without a loud sample before an onset counts
	flvSpeex      = 0xB2 // FLV audio tag header: Speex, 16 kHz, 16-bit, mono
)

// cycle is the encoded audio of one participant slot pattern.
type cycle struct {
	frames  [][]byte // FLV audio tag bodies (header byte + one Speex frame)
	silence []byte   // what a member who does not talk sends every 20 ms
}

// makeCycle encodes a cycle of n frames (n ≥ slotFrames) with the burst at
// the start.
func makeCycle(n int) (*cycle, error) {
	pcm := cyclePCM(n)
	enc, err := codecs.NewEncoder(codec.Speex, rate)
	if err != nil {
		return nil, fmt.Errorf("speex encoder: %w", err)
	}
	defer closeCodec(enc)
	if enc.FrameSamples() != frameSamples {
		return nil, fmt.Errorf("speex frames are %d samples, want %d", enc.FrameSamples(), frameSamples)
	}
	c := &cycle{}
	for k := 0; k < n; k++ {
		pkt, err := enc.Encode([]byte{flvSpeex}, pcm[k*frameSamples:(k+1)*frameSamples])
		if err != nil {
			return nil, fmt.Errorf("speex encode: %w", err)
		}
		c.frames = append(c.frames, pkt)
	}
	// Digital silence encodes to the same packet once the encoder settles.
	zero := make([]int16, frameSamples)
	for range 10 {
		if c.silence, err = enc.Encode([]byte{flvSpeex}, zero); err != nil {
			return nil, fmt.Errorf("speex encode: %w", err)
		}
	}
	return c, nil
}

// cyclePCM is the 16 kHz PCM of a cycle of n frames.
func cyclePCM(n int) []int16 {
	pcm := make([]int16, n*frameSamples)
	for i := range pcm {
		v := backgroundAmp * math.Sin(2*math.Pi*220*float64(i)/rate)
		if i < burstFrames*frameSamples {
			v = burstAmp * math.Sin(2*math.Pi*1000*float64(i)/rate)
		}
		pcm[i] = int16(v)
	}
	return pcm
}

// onsetDetector finds marker onsets in decoded audio fed frame by frame.
type onsetDetector struct {
	quiet int // frames in a row without a loud sample
}

// feed returns the index of the onset sample in pcm, or -1.
func (d *onsetDetector) feed(pcm []int16) int {
	for i, v := range pcm {
		if v > onsetLevel || v < -onsetLevel {
			armed := d.quiet >= quietFrames
			d.quiet = 0
			if armed {
				return i
			}
			return -1
		}
	}
	d.quiet++
	return -1
}

// codecDelay measures, in samples, how much later the marker's onset comes
// out of the chain the mixer puts it through: the cycle's own packets
// replayed twice into a Speex decoder (the mixer's input), that audio
// encoded and decoded again (the mix out to the listener). The end-to-end
// figure minus this is the latency of mixing itself: buffering, the wait
// for the mixer's tick, processing.
func (c *cycle) codecDelay() (int, error) {
	dec, err := codecs.NewDecoder(codec.Speex, rate)
	if err != nil {
		return 0, err
	}
	defer closeCodec(dec)
	var pcm []int16
	for range 2 {
		for _, f := range c.frames {
			if pcm, err = dec.Decode(pcm, f[1:]); err != nil {
				return 0, err
			}
		}
	}
	if pcm, err = encodeDecode(pcm); err != nil {
		return 0, err
	}
	var d onsetDetector // not armed during the first cycle's marker
	for k := 0; k+frameSamples <= len(pcm); k += frameSamples {
		if i := d.feed(pcm[k : k+frameSamples]); i >= 0 {
			return k + i - len(c.frames)*frameSamples, nil
		}
	}
	return 0, fmt.Errorf("no onset after two Speex passes")
}

// encodeDecode puts pcm through a fresh Speex encoder and decoder.
func encodeDecode(pcm []int16) ([]int16, error) {
	enc, err := codecs.NewEncoder(codec.Speex, rate)
	if err != nil {
		return nil, err
	}
	defer closeCodec(enc)
	dec, err := codecs.NewDecoder(codec.Speex, rate)
	if err != nil {
		return nil, err
	}
	defer closeCodec(dec)
	var out []int16
	for k := 0; k+frameSamples <= len(pcm); k += frameSamples {
		pkt, err := enc.Encode(nil, pcm[k:k+frameSamples])
		if err != nil {
			return nil, err
		}
		if out, err = dec.Decode(out, pkt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func closeCodec(c any) {
	if cl, ok := c.(interface{ Close() error }); ok {
		_ = cl.Close()
	}
}
