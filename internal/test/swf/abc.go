package swf

import (
	"errors"
	"fmt"
)

// ErrABC is a malformed ActionScript byte code block.
var ErrABC = errors.New("swf: malformed ABC")

// abcReader reads the variable-length integers of an ABC block.
type abcReader struct {
	b   []byte
	off int
}

// u30 reads an unsigned variable-length integer of up to 5 bytes.
func (r *abcReader) u30() (uint32, error) {
	var v uint32
	for i := range 5 {
		if r.off >= len(r.b) {
			return 0, fmt.Errorf("%w: integer past the end", ErrABC)
		}
		c := r.b[r.off]
		r.off++
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return v, nil
}

func (r *abcReader) skip(n int) error {
	if n < 0 || len(r.b)-r.off < n {
		return fmt.Errorf("%w: %d bytes past the end", ErrABC, n)
	}
	r.off += n
	return nil
}

// count reads a pool's entry count (entry 0 is implicit: count-1 follow).
// Each entry takes at least min bytes, which bounds the count by the input.
func (r *abcReader) count(min int) (int, error) {
	n, err := r.u30()
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if int64(n-1)*int64(min) > int64(len(r.b)-r.off) {
		return 0, fmt.Errorf("%w: pool of %d entries in %d bytes", ErrABC, n, len(r.b)-r.off)
	}
	return int(n - 1), nil
}

// ConstantStrings returns the string pool of an ABC block (AVM2 overview,
// 4.3: minor, major, then the int, uint, double and string pools).
func ConstantStrings(abc []byte) ([]string, error) {
	r := &abcReader{b: abc}
	if err := r.skip(4); err != nil { // minor_version, major_version
		return nil, err
	}
	for range 2 { // the int and uint pools, u30-encoded
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		for range n {
			if _, err := r.u30(); err != nil {
				return nil, err
			}
		}
	}
	n, err := r.count(8) // double pool
	if err != nil {
		return nil, err
	}
	if err := r.skip(8 * n); err != nil {
		return nil, err
	}
	n, err = r.count(1)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for range n {
		l, err := r.u30()
		if err != nil {
			return nil, err
		}
		start := r.off
		if err := r.skip(int(l)); err != nil {
			return nil, err
		}
		out = append(out, string(r.b[start:r.off]))
	}
	return out, nil
}
