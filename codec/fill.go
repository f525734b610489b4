package codec

// gapTolerance is how far a gap may be from a whole number of packets
// and still be taken as packets lost: timestamps in milliseconds round
// each packet's by up to a millisecond. A publisher whose timestamps
// jitter (stamped on arrival rather than by its samples) makes gaps that
// are rarely whole packets, and those are left alone.
const gapTolerance = 1500 // µs

// FillGap fills input lost before the packet next: gapMicros of audio
// missing, after packets of frameMicros each, when the gap is a whole
// number of packets (within gapTolerance; anything else is jitter, not
// loss, and is left alone). The last missing packet comes from next's
// in-band FEC when dec has it (FECDecoder: Opus), the others from dec's
// concealment; emit gets each filled chunk's PCM (valid during the call)
// and whether it was decoded from next's FEC (libopus conceals there too
// when next carries none: SILK codes the redundancy only for frames it
// finds active). pcm is the buffer to decode into, returned for reuse.
func FillGap(dec Decoder, pcm []int16, gapMicros, frameMicros int64, next []byte, emit func(pcm []int16, recovered bool)) []int16 {
	if frameMicros <= 0 {
		return pcm
	}
	k := (gapMicros + frameMicros/2) / frameMicros
	if off := gapMicros - k*frameMicros; k < 1 || off > gapTolerance || off < -gapTolerance {
		return pcm
	}
	fec, hasFEC := dec.(FECDecoder)
	for rem := k * frameMicros; rem > 0; {
		recovered := hasFEC && rem <= frameMicros // the last missing packet
		if recovered {
			pcm = fec.DecodeFEC(pcm[:0], next)
		} else {
			pcm = dec.Conceal(pcm[:0])
		}
		if len(pcm) == 0 {
			break
		}
		rem -= int64(len(pcm)) * 1e6 / int64(dec.SampleRate())
		emit(pcm, recovered)
	}
	return pcm
}
