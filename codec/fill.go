package codec

// FillGap fills input lost before the packet next: gapMicros of audio
// missing, after packets of frameMicros each. Less than half a packet is
// jitter, not loss, and is left alone. The packet just before next comes
// from next's in-band FEC when dec has it (FECDecoder: Opus), the others
// from dec's concealment; emit gets each filled frame's PCM (valid during
// the call) and whether it was decoded from next's FEC (libopus
// conceals there too when next carries none: SILK codes the redundancy
// only for frames it finds active). pcm is the buffer to decode
// into (reused; returned for the next call).
func FillGap(dec Decoder, pcm []int16, gapMicros, frameMicros int64, next []byte, emit func(pcm []int16, recovered bool)) []int16 {
	fec, hasFEC := dec.(FECDecoder)
	for frameMicros > 0 && 2*gapMicros >= frameMicros {
		recovered := hasFEC && 2*gapMicros < 3*frameMicros // the last missing packet
		if recovered {
			pcm = fec.DecodeFEC(pcm[:0], next)
		} else {
			pcm = dec.Conceal(pcm[:0])
		}
		if len(pcm) == 0 {
			break
		}
		gapMicros -= int64(len(pcm)) * 1e6 / int64(dec.SampleRate())
		emit(pcm, recovered)
	}
	return pcm
}
