package codec

import "fmt"

// FLV SoundFormat values (the high nibble of an FLV audio tag's first byte).
const (
	flvPCMPlatform  = 0
	flvADPCM        = 1
	flvMP3          = 2
	flvPCMLE        = 3
	flvNelly16k     = 4
	flvNelly8k      = 5
	flvNelly        = 6
	flvPCMA         = 7
	flvPCMU         = 8
	flvAAC          = 10
	flvSpeex        = 11
	flvMP38k        = 14
	flvBits16       = 0x02
	flvStereo       = 0x01
	flvRateShift    = 2
	flvRate44100Bit = 3
)

// flvRates are the rates of the SoundRate bits 0..3.
var flvRates = [4]int{5512, 11025, 22050, 44100}

// FLVSound is the decoded first byte of an FLV audio tag.
type FLVSound struct {
	ID ID
	// Rate is the PCM rate in Hz. It comes from the format where the format
	// fixes it (Nellymoser 4/5, G.711, Speex, MP3 8 kHz): the SoundRate bits
	// of those are not trustworthy. It is 0 for AAC, whose rate is in the
	// AudioSpecificConfig.
	Rate   int
	Bits   int  // 8 or 16 bits per sample, as the tag claims (meaningful for PCM and ADPCM)
	Stereo bool // as the tag claims (meaningful for PCM, ADPCM, MP3)
}

// ParseFLVSound decodes the first byte of an FLV audio tag.
func ParseFLVSound(tag0 byte) (FLVSound, error) {
	s := FLVSound{
		Rate:   flvRates[(tag0>>flvRateShift)&3],
		Bits:   8,
		Stereo: tag0&flvStereo != 0,
	}
	if tag0&flvBits16 != 0 {
		s.Bits = 16
	}
	switch tag0 >> 4 {
	case flvPCMPlatform, flvPCMLE:
		s.ID = PCM16
	case flvADPCM:
		s.ID = ADPCM
	case flvMP3:
		s.ID = MP3
	case flvMP38k:
		s.ID, s.Rate = MP3, 8000
	case flvNelly16k:
		s.ID, s.Rate = Nellymoser, 16000
	case flvNelly8k:
		s.ID, s.Rate = Nellymoser, 8000
	case flvNelly:
		s.ID = Nellymoser
	case flvPCMA:
		s.ID, s.Rate = PCMA, 8000
	case flvPCMU:
		s.ID, s.Rate = PCMU, 8000
	case flvAAC:
		s.ID, s.Rate = AAC, 0
	case flvSpeex:
		s.ID, s.Rate = Speex, 16000
	default:
		return FLVSound{}, fmt.Errorf("%w: FLV SoundFormat %d", ErrUnknownFormat, tag0>>4)
	}
	return s, nil
}

// ParseFLVAudio returns the codec and PCM rate named by the first byte of an
// FLV audio tag. See FLVSound.Rate for which bits are trusted.
func ParseFLVAudio(tag0 byte) (id ID, rate int, err error) {
	s, err := ParseFLVSound(tag0)
	if err != nil {
		return 0, 0, err
	}
	return s.ID, s.Rate, nil
}

// FLVAudioHeader returns the first byte of an FLV audio tag carrying mono
// 16-bit id at rate, as Flash Player writes it: Nellymoser 16 kHz 0x42,
// 8 kHz 0x52, other rates 0x6?; Speex 0xB2; PCMU 0x82; PCMA 0x72.
// PCM16 is written as little-endian (format 3) and AAC as 0xAF, which the
// FLV specification requires whatever the real rate and channels.
func FLVAudioHeader(id ID, rate int) (byte, error) {
	const mono16 = flvBits16
	rateBits := func() (byte, error) {
		for i, r := range flvRates {
			if r == rate {
				return byte(i) << flvRateShift, nil
			}
		}
		return 0, fmt.Errorf("%w: %s at %d Hz in FLV", ErrUnsupportedRate, id, rate)
	}
	switch id {
	case Nellymoser:
		switch rate {
		case 16000:
			return flvNelly16k<<4 | mono16, nil
		case 8000:
			return flvNelly8k<<4 | mono16, nil
		}
		rb, err := rateBits()
		if err != nil {
			return 0, err
		}
		return flvNelly<<4 | rb | mono16, nil
	case Speex:
		if rate != 16000 {
			return 0, fmt.Errorf("%w: speex at %d Hz in FLV (only 16000)", ErrUnsupportedRate, rate)
		}
		return flvSpeex<<4 | mono16, nil
	case PCMU, PCMA:
		if rate != 8000 {
			return 0, fmt.Errorf("%w: %s at %d Hz", ErrUnsupportedRate, id, rate)
		}
		if id == PCMU {
			return flvPCMU<<4 | mono16, nil
		}
		return flvPCMA<<4 | mono16, nil
	case MP3:
		if rate == 8000 {
			return flvMP38k<<4 | mono16, nil
		}
		rb, err := rateBits()
		if err != nil {
			return 0, err
		}
		return flvMP3<<4 | rb | mono16, nil
	case AAC:
		return flvAAC<<4 | flvRate44100Bit<<flvRateShift | flvBits16 | flvStereo, nil
	case ADPCM:
		rb, err := rateBits()
		if err != nil {
			return 0, err
		}
		return flvADPCM<<4 | rb | mono16, nil
	case PCM16:
		rb, err := rateBits()
		if err != nil {
			return 0, err
		}
		return flvPCMLE<<4 | rb | mono16, nil
	}
	return 0, fmt.Errorf("%w: %s has no FLV SoundFormat", ErrUnknownFormat, id)
}
