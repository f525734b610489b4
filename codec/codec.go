package codec

// Decoder turns packets into 16-bit mono PCM at SampleRate.
// A Decoder keeps state between packets; it is not safe for concurrent use.
type Decoder interface {
	// Decode appends the PCM of every frame in pkt to dst and returns it.
	// A packet may hold several frames (Flash's Microphone.framesPerPacket).
	// An empty packet appends nothing and is not an error. On a corrupt
	// packet it returns dst, possibly extended by the frames decoded before
	// the damage, and an error wrapping ErrCorrupt; it never panics.
	Decode(dst []int16, pkt []byte) ([]int16, error)
	// Conceal appends one frame of packet-loss concealment to dst.
	Conceal(dst []int16) []int16
	// SampleRate is the rate of the PCM Decode produces, in Hz.
	SampleRate() int
}

// FECDecoder is a Decoder whose packets may carry the frame before them
// again (Opus in-band FEC, RFC 6716 §2.1.7): a lost packet's audio comes
// back from the one after it.
type FECDecoder interface {
	Decoder
	// DecodeFEC appends the frame just before pkt, from pkt's redundant
	// data, as long as the last frame decoded; concealment when pkt has
	// none. Decode pkt itself after it.
	DecodeFEC(dst []int16, pkt []byte) []int16
}

// LossTuner is an Encoder that can protect its packets against the loss
// its receivers report (Opus in-band FEC).
type LossTuner interface {
	// SetLossPercent sets the expected loss, 0–100; 0 turns it off.
	SetLossPercent(pct int) error
}

// Encoder turns 16-bit mono PCM at SampleRate into packets.
// An Encoder keeps state between frames; it is not safe for concurrent use.
type Encoder interface {
	// Encode appends one encoded frame to dst and returns it. pcm must hold
	// exactly FrameSamples samples, else the error wraps ErrFrameSize.
	Encode(dst []byte, pcm []int16) ([]byte, error)
	// FrameSamples is the number of samples one Encode call consumes.
	FrameSamples() int
	// SampleRate is the rate of the PCM Encode expects, in Hz.
	SampleRate() int
}
