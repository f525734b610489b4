// Package speex binds libspeex (cgo, Debian's libspeex-dev) for Speex
// narrowband (8 kHz, 160-sample frames), wideband (16 kHz, 320) and
// ultra-wideband (32 kHz, 640). Flash Player and FLV always use wideband.
//
// A Decoder accepts packets holding several frames bit-packed back to back
// (Flash's Microphone.framesPerPacket) and decodes them all in one cgo call,
// stopping at the end of the packet or at a terminator code, as libspeex's
// speexdec does. Conceal runs libspeex's own packet-loss concealment.
//
// Decoders and Encoders hold C memory. It is released by Close, or by the
// garbage collector when the value becomes unreachable.
package speex
