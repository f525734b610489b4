//go:build !cgo

package sipbridge

// opusBuilt: without cgo there is no libopus; Opus is left out of the
// default codec order (sip.codecs may still name it, for pass-through).
const opusBuilt = false
