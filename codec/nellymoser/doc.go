// Package nellymoser is a pure Go decoder and encoder for Nellymoser Asao,
// the voice codec of Flash Player (FLV SoundFormat 4 = 16 kHz, 5 = 8 kHz,
// 6 = rate from the tag's rate bits, 5.5–44.1 kHz).
//
// A coded block is 64 bytes and holds 256 samples at whatever rate the
// container states; the codec itself does not depend on the rate. A block
// carries 23 band exponents (116 bits) and two 198-bit sets of quantized
// MDCT coefficients, one per 128-sample half. The number of bits of each
// coefficient is derived from the exponents, so it is not transmitted;
// unallocated coefficients are filled with noise at the band's level.
// The codec delay is 128 samples.
//
// The format's facts (tables, bit allocation, transform sizes, window) were
// taken from FFmpeg's libavcodec (nellymoser.c, nellymoserdec.c,
// nellymoserenc.c), which is also the reference the tests compare against.
package nellymoser
