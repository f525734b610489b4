package nellymoser

import (
	"crypto/md5"
	"encoding/binary"
	"sync"
)

// lfg is FFmpeg's additive lagged Fibonacci generator (libavutil/lfg.h,
// av_lfg_get) seeded as av_lfg_init(seed 0) does. FFmpeg's decoder flips the
// sign of every noise-filled coefficient on the low bit of this generator;
// using the same sequence makes our output match FFmpeg's sample for sample
// on unallocated coefficients too.
type lfg struct {
	state [64]uint32
	index uint32
}

// lfgSeed0 is the state av_lfg_init(&c, 0) produces: state[8..63] from a
// chain of MD5 digests over a 16-byte buffer whose first bytes are
// overwritten with the seed and the index; state[0..7] stay zero.
var lfgSeed0 = sync.OnceValue(func() [64]uint32 {
	var st [64]uint32
	var tmp [16]byte
	for i := 8; i < 64; i += 4 {
		binary.LittleEndian.PutUint32(tmp[0:], 0)
		tmp[4] = byte(i)
		tmp = md5.Sum(tmp[:])
		for k := range 4 {
			st[i+k] = binary.LittleEndian.Uint32(tmp[4*k:])
		}
	}
	return st
})

func (g *lfg) reset() {
	g.state = lfgSeed0()
	g.index = 0
}

func (g *lfg) next() uint32 {
	a := g.state[(g.index-24)&63] + g.state[(g.index-55)&63]
	g.state[g.index&63] = a
	g.index++
	return a
}
