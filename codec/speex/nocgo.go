//go:build !cgo

package speex

import (
	"fmt"
	"unsafe"
)

// Without cgo there is no libspeex: every Decoder and Encoder fails to
// start with ErrUnavailable, and everything else in flashvox works.

type cState struct {
	st unsafe.Pointer
}

func newState(int, bool) (cState, error) {
	return cState{}, fmt.Errorf("%w (built with CGO_ENABLED=0)", ErrUnavailable)
}

func (cState) free()                                       {}
func (cState) decode([]byte, []int16, int, int) (int, int) { return 0, 0 }
func (cState) conceal([]int16)                             {}
func (cState) encode([]int16, []byte) int                  { return 0 }
func (cState) frameSize() int                              { return 0 }
func (cState) configureEncoder(int, int)                   {}
