package codec

import "fmt"

// An FLV audio tag body is one sound byte (SoundFormat, SoundRate,
// SoundSize, SoundType), for AAC one AACPacketType byte, then the codec
// packet. The RTMP/RTMFP edges and the FLV writers split and build such
// bodies with SplitFLVAudio and AppendFLVAudio, so the media hub only ever
// sees bare codec packets.

// FLVHint is the sound byte an FLV audio tag arrived with, kept beside the
// bare packet so that an edge writing FLV again sends that very byte: the
// codec id does not say everything the byte does (the SoundRate bits Flash
// and ffmpeg set differently on fixed-rate formats, SoundSize, format 0
// versus 3 for PCM). Nothing but AppendFLVAudio reads it. The zero value
// holds no byte.
type FLVHint uint16

const flvHintSet = 0x100

// MakeFLVHint returns the hint holding sound byte b.
func MakeFLVHint(b byte) FLVHint { return FLVHint(flvHintSet | uint16(b)) }

// Byte returns the sound byte the hint holds, and false if it holds none.
func (h FLVHint) Byte() (byte, bool) { return byte(h), h&flvHintSet != 0 }

// FLVAudio is what an FLV audio tag's header says about its codec packet.
type FLVAudio struct {
	ID ID
	// Rate is the PCM rate in Hz (see FLVSound.Rate); 0 for AAC, whose rate
	// is in its AudioSpecificConfig.
	Rate int
	// Channels is 1 or 2, from the SoundType bit; always 1 for the codecs
	// FLV carries only in mono (Nellymoser, Speex, G.711).
	Channels int
	// Config marks an AAC sequence header (AACPacketType 0): the
	// AudioSpecificConfig a late joiner needs, not audio.
	Config bool
	// Hint is the sound byte as received (SplitFLVAudio) or to reuse
	// (AppendFLVAudio).
	Hint FLVHint
}

// aac packet types (the byte after the sound byte of an AAC tag).
const (
	aacSequenceHeader = 0
	aacRaw            = 1
)

// monoOnly reports the codecs FLV carries only in mono, whose SoundType
// bit means nothing.
func monoOnly(id ID) bool {
	return id == Nellymoser || id == Speex || id == PCMU || id == PCMA
}

// flvAudioOf is what sound byte b says, without the AAC packet type.
func flvAudioOf(b byte) (FLVAudio, error) {
	s, err := ParseFLVSound(b)
	if err != nil {
		return FLVAudio{}, err
	}
	a := FLVAudio{ID: s.ID, Rate: s.Rate, Channels: 1, Hint: MakeFLVHint(b)}
	if s.Stereo && !monoOnly(s.ID) {
		a.Channels = 2
	}
	return a, nil
}

// SplitFLVAudio takes an FLV audio tag body apart: what its header says and
// the bare codec packet, which shares body's memory. A body of an unknown
// SoundFormat (the reserved 9, 12, 13, 15; enhanced RTMP's ExHeader) or an
// AAC body of an unknown packet type fails with ErrUnknownFormat.
func SplitFLVAudio(body []byte) (FLVAudio, []byte, error) {
	if len(body) == 0 {
		return FLVAudio{}, nil, fmt.Errorf("%w: empty FLV audio tag", ErrCorrupt)
	}
	a, err := flvAudioOf(body[0])
	if err != nil {
		return FLVAudio{}, nil, err
	}
	if a.ID != AAC {
		return a, body[1:], nil
	}
	if len(body) < 2 {
		return FLVAudio{}, nil, fmt.Errorf("%w: AAC tag without a packet type", ErrCorrupt)
	}
	switch body[1] {
	case aacSequenceHeader:
		a.Config = true
	case aacRaw:
	default:
		return FLVAudio{}, nil, fmt.Errorf("%w: AACPacketType %d", ErrUnknownFormat, body[1])
	}
	return a, body[2:], nil
}

// FLVAudioHeaderSize is how many bytes AppendFLVAudio puts before the
// packet of id.
func FLVAudioHeaderSize(id ID) int {
	if id == AAC {
		return 2
	}
	return 1
}

// FLVSoundByte returns the sound byte for a: a.Hint when it still says
// a.ID, a.Rate and a.Channels (so a relay is byte-identical), else the
// byte FLVAudioHeader writes, with the SoundType bit set for stereo.
func FLVSoundByte(a FLVAudio) (byte, error) {
	if b, ok := a.Hint.Byte(); ok {
		if h, err := flvAudioOf(b); err == nil && h.ID == a.ID && h.Rate == a.Rate && h.Channels == a.Channels {
			return b, nil
		}
	}
	b, err := FLVAudioHeader(a.ID, a.Rate)
	if err != nil {
		return 0, err
	}
	if a.ID != AAC && !monoOnly(a.ID) {
		b &^= flvStereo
		if a.Channels == 2 {
			b |= flvStereo
		}
	}
	return b, nil
}

// AppendFLVAudio appends to dst the FLV audio tag body of packet pkt
// described by a (see FLVSoundByte for the sound byte). A codec FLV cannot
// carry (G.722) fails with ErrUnknownFormat.
func AppendFLVAudio(dst []byte, a FLVAudio, pkt []byte) ([]byte, error) {
	b, err := FLVSoundByte(a)
	if err != nil {
		return dst, err
	}
	return append(AppendFLVAudioHeader(dst, b, a), pkt...), nil
}

// AppendFLVAudioHeader appends the header of an FLV audio tag of a with
// sound byte b (from FLVSoundByte, which a caller sending many frames of
// one stream may keep): b, and for AAC the packet type.
func AppendFLVAudioHeader(dst []byte, b byte, a FLVAudio) []byte {
	dst = append(dst, b)
	if a.ID == AAC {
		pt := byte(aacRaw)
		if a.Config {
			pt = aacSequenceHeader
		}
		dst = append(dst, pt)
	}
	return dst
}
