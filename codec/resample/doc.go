// Package resample converts 16-bit mono PCM between sample rates (5512,
// 8000, 11025, 16000, 22050, 44100, 48000 Hz and any other pair in
// MinRate..MaxRate) with a streaming windowed-sinc polyphase filter. State
// is carried across calls, so audio cut into frames of any size comes out
// the same as if it were resampled whole: no clicks at frame edges.
//
// The filter is a Kaiser-windowed sinc designed at the lower of the two
// rates: flat within ±0.1 dB up to 0.45 × the lower rate, at least 70 dB
// down from 0.5 × the lower rate (its Nyquist frequency) up, so neither
// aliases (downsampling) nor images (upsampling) get through. The filter is
// linear-phase and centred, so the output is not shifted in time; it holds
// back 48 samples at the lower rate until more input or Flush.
//
// Exact 2:1 and 1:2 pairs (16000↔8000, the hub's PCMU chains) use a
// half-band filter instead (halfband.go), ~5× faster: the same passband
// (±0.0015 dB to 0.45 × the lower rate) and ≥ 75 dB of rejection, but
// from 0.55 × the lower rate up (-6 dB at its Nyquist frequency), so input
// between 0.5 and 0.55 × the lower rate aliases into 0.45..0.5 ×, outside
// the passband. It holds back about 24 samples at the lower rate.
package resample
