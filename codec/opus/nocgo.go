//go:build !cgo

package opus

import "fmt"

// Without cgo there is no libopus: every Decoder and Encoder fails to start
// with ErrUnavailable, and everything else in flashvox works.

type cState struct{}

func newState(int, bool) (cState, error) {
	return cState{}, fmt.Errorf("%w (built with CGO_ENABLED=0)", ErrUnavailable)
}

func (cState) ok() bool                              { return false }
func (cState) free()                                 {}
func (cState) decode([]byte, []int16) int            { return 0 }
func (cState) decodeFEC([]byte, []int16) int         { return 0 }
func (cState) lastDuration() int                     { return 0 }
func (cState) encode([]int16, []byte) int            { return 0 }
func (cState) configureEncoder(EncoderOptions) error { return ErrUnavailable }
func (cState) setLoss(int, int) error                { return ErrUnavailable }
