package codec

// NoFLV is Info.FLVFormat for a codec FLV cannot carry.
const NoFLV uint8 = 0xFF

// PayloadDynamic is Info.PayloadType for a codec without a static RTP payload type.
const PayloadDynamic = -1

// Info describes a codec: its native PCM rate, its RTP mapping and its FLV format.
// For codecs that run at several rates (Nellymoser, Speex, PCM16) it gives the
// rate flashvox uses by default.
type Info struct {
	ID   ID
	Name string // SDP encoding name (a=rtpmap), "" when there is no RTP mapping
	// SampleRate is the PCM rate Decoder produces and Encoder consumes, in Hz.
	SampleRate int
	// ClockRate is the RTP timestamp clock. It differs from SampleRate for
	// G.722, whose clock is 8000 Hz although it samples at 16 kHz (RFC 3551 4.5.2).
	ClockRate    int
	FrameSamples int   // samples per codec frame at SampleRate
	PayloadType  int   // static RTP payload type, or PayloadDynamic
	FLVFormat    uint8 // FLV SoundFormat, or NoFLV
}

var infos = [numIDs]Info{
	Nellymoser: {ID: Nellymoser, Name: "", SampleRate: 16000, ClockRate: 16000, FrameSamples: 256, PayloadType: PayloadDynamic, FLVFormat: 4},
	Speex:      {ID: Speex, Name: "speex", SampleRate: 16000, ClockRate: 16000, FrameSamples: 320, PayloadType: PayloadDynamic, FLVFormat: 11},
	PCMU:       {ID: PCMU, Name: "PCMU", SampleRate: 8000, ClockRate: 8000, FrameSamples: 160, PayloadType: 0, FLVFormat: 8},
	PCMA:       {ID: PCMA, Name: "PCMA", SampleRate: 8000, ClockRate: 8000, FrameSamples: 160, PayloadType: 8, FLVFormat: 7},
	G722:       {ID: G722, Name: "G722", SampleRate: 16000, ClockRate: 8000, FrameSamples: 320, PayloadType: 9, FLVFormat: NoFLV},
	MP3:        {ID: MP3, Name: "MPA", SampleRate: 44100, ClockRate: 90000, FrameSamples: 1152, PayloadType: 14, FLVFormat: 2},
	AAC:        {ID: AAC, Name: "MPEG4-GENERIC", SampleRate: 44100, ClockRate: 44100, FrameSamples: 1024, PayloadType: PayloadDynamic, FLVFormat: 10},
	ADPCM:      {ID: ADPCM, Name: "", SampleRate: 22050, ClockRate: 22050, FrameSamples: 4096, PayloadType: PayloadDynamic, FLVFormat: 1},
	PCM16:      {ID: PCM16, Name: "L16", SampleRate: 44100, ClockRate: 44100, FrameSamples: 882, PayloadType: 11, FLVFormat: 3},
	// Opus runs at 48 kHz in flashvox (the rate WebRTC's RTP clock says, so
	// browser audio is not resampled twice); 20 ms frames.
	Opus: {ID: Opus, Name: "opus", SampleRate: 48000, ClockRate: 48000, FrameSamples: 960, PayloadType: PayloadDynamic, FLVFormat: NoFLV},
}

// Lookup returns the Info of id, and false if id is not a known codec.
func Lookup(id ID) (Info, bool) {
	if id == 0 || id >= numIDs {
		return Info{}, false
	}
	return infos[id], true
}

// LookupPayloadType returns the Info of the codec with the static RTP payload type pt.
func LookupPayloadType(pt int) (Info, bool) {
	for _, in := range infos[1:] {
		if in.PayloadType == pt && pt != PayloadDynamic {
			return in, true
		}
	}
	return Info{}, false
}
