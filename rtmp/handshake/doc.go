// Package handshake is the RTMP handshake, both sides: simple (RTMP 1.0
// §5.2), complex digest (as Flash Player, FMS and ffmpeg do it) and RTMPE
// (Diffie-Hellman, then RC4). It works on any io.ReadWriter and returns the
// stream to use afterwards; package rtmp runs it before the chunk stream.
package handshake
