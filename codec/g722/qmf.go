package g722

// qmfHistory is the 24-sample QMF delay line, kept in a longer buffer so
// that pushing a sample pair is a store, not a shift: the buffer is
// compacted once every qmfSpan pairs.
type qmfHistory struct {
	buf [22 + 2*qmfSpan]int
	n   int // samples in buf; the window is buf[n-24:n]
}

const qmfSpan = 256

// push appends a sample pair and returns the 24-sample window ending with it.
func (q *qmfHistory) push(a, b int) *[24]int {
	if q.n < 22 {
		q.n = 22 // start from the zeroed history
	}
	if q.n == len(q.buf) {
		copy(q.buf[:22], q.buf[q.n-22:q.n])
		q.n = 22
	}
	q.buf[q.n], q.buf[q.n+1] = a, b
	q.n += 2
	return (*[24]int)(q.buf[q.n-24 : q.n])
}

// split returns the even- and odd-tap sums of the symmetric QMF over x:
// Σ x[2i+1]·qmf[11-i] and Σ x[2i]·qmf[i].
func split(x *[24]int) (even, odd int) {
	even = x[1]*qmf[11] + x[3]*qmf[10] + x[5]*qmf[9] + x[7]*qmf[8] + x[9]*qmf[7] + x[11]*qmf[6] +
		x[13]*qmf[5] + x[15]*qmf[4] + x[17]*qmf[3] + x[19]*qmf[2] + x[21]*qmf[1] + x[23]*qmf[0]
	odd = x[0]*qmf[0] + x[2]*qmf[1] + x[4]*qmf[2] + x[6]*qmf[3] + x[8]*qmf[4] + x[10]*qmf[5] +
		x[12]*qmf[6] + x[14]*qmf[7] + x[16]*qmf[8] + x[18]*qmf[9] + x[20]*qmf[10] + x[22]*qmf[11]
	return even, odd
}
