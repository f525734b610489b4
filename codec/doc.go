// Package codec names the audio codecs flashvox moves between Flash and
// telephones, maps them to FLV SoundFormat bytes and RTP payload types, and
// declares the Decoder and Encoder interfaces every codec implements.
//
// Implementations live in sub-packages (g711, g722, speex, nellymoser) and
// do not register themselves: package codec/codecs holds the one explicit
// table from ID to constructor, so importing a codec never has side effects.
package codec
