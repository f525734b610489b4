// Package convert turns archives of Flash voice recordings into WAV files
// and WAV files into FLV audio, for `flashvox convert`.
//
// Files are read and written with container/flv and container/wav, the
// project's one FLV and WAV implementation: strict length checks, errors
// that name the byte offset of the damage, no allocation per tag once warm,
// fuzz targets. The go-flv module would do the reading too, but it decodes
// every tag into typed structs (script data through its AMF0 decoder) that
// conversion does not need, and its errors do not say where a file is
// damaged.
//
// FLV → WAV decodes whatever codec each audio tag holds; a change of codec
// or rate mid-file starts a new decoder, and everything is resampled to one
// rate (Options.Rate, or the first audio tag's rate). WAV → FLV encodes
// 16-bit PCM (stereo is mixed down) in one of the codecs FLV can carry.
package convert
