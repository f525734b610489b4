package codec

// ID identifies an audio codec. The zero ID is invalid.
type ID uint8

// Codecs known to flashvox. Only some have Decoder/Encoder implementations
// (see codec/codecs); the others are named so that they can be recognised,
// passed through and reported.
const (
	Nellymoser ID = iota + 1 // Nellymoser Asao, FLV formats 4, 5, 6
	Speex                    // Speex, FLV format 11
	PCMU                     // G.711 μ-law, FLV format 8, RTP PT 0
	PCMA                     // G.711 A-law, FLV format 7, RTP PT 8
	G722                     // G.722 64 kbit/s, RTP PT 9; not carried in FLV
	MP3                      // MPEG-1/2 Layer III, FLV formats 2 and 14
	AAC                      // AAC, FLV format 10
	ADPCM                    // Flash ADPCM, FLV format 1
	PCM16                    // 16-bit linear PCM: FLV formats 0 and 3 (little-endian), RTP L16 (big-endian)
	Opus                     // Opus (RFC 6716, RTP RFC 7587: clock 48000); not carried in FLV
	numIDs
)

var idNames = [numIDs]string{
	Nellymoser: "nellymoser",
	Speex:      "speex",
	PCMU:       "pcmu",
	PCMA:       "pcma",
	G722:       "g722",
	MP3:        "mp3",
	AAC:        "aac",
	ADPCM:      "adpcm",
	PCM16:      "pcm16",
	Opus:       "opus",
}

// String returns the codec's lower-case short name, as accepted by ParseID.
func (id ID) String() string {
	if id == 0 || id >= numIDs {
		return "unknown"
	}
	return idNames[id]
}

// ParseID returns the ID whose String is name (case-sensitive, lower case).
func ParseID(name string) (ID, bool) {
	for id := ID(1); id < numIDs; id++ {
		if idNames[id] == name {
			return id, true
		}
	}
	return 0, false
}
