// Package mix sums 16-bit mono PCM frames: the mix of N streams, and the N
// "everyone but me" (N-1) mixes a conference sends back to its members.
//
// Sums are taken in 32 bits and brought back to 16 bits by a soft limiter:
// linear up to Knee, then a smooth curve that approaches but never reaches
// full scale. Wrap-around turns loud overlaps into bursts of noise and hard
// clipping into harsh distortion; the limiter only bends the peaks.
//
// A Mixer owns its scratch buffer, so mixing allocates nothing per frame.
// A Mixer is not safe for concurrent use.
package mix
