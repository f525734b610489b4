// Package g722 implements ITU-T G.722 at 64 kbit/s (mode 1): sub-band ADPCM
// of 16 kHz audio, one byte per two samples (6 bits low band, 2 bits high
// band). The arithmetic follows the ITU-T fixed-point reference blocks
// (QUANTL, INVQAL, LOGSCL, SCALEL, the adaptive predictor of block 4 and the
// 24-tap QMF), so that output matches other conforming implementations.
//
// On RTP, G.722 uses an 8000 Hz clock although it samples at 16 kHz
// (RFC 3551 section 4.5.2); see codec.Info.ClockRate.
package g722
