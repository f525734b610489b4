//go:build cgo

package sipbridge

// opusBuilt: this build links libopus (codec/opus), so an Opus leg can be
// transcoded when the other leg speaks something else.
const opusBuilt = true
