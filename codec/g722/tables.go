package g722

// Tables of ITU-T G.722 (the values of its Tables 9-17 as used by the
// reference implementation).
var (
	// q6 holds the low-band quantiser decision levels (scaled by det >> 12).
	q6 = [32]int{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
		786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	// iln and ilp map a decision interval to the 6-bit code for negative and positive errors.
	iln = [32]int{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
		18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	ilp = [32]int{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
		46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	// wl is the low-band log scale factor multiplier, indexed through rl42.
	wl   = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rl42 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	// ilb is the inverse log table (2^(i/32) scaled) used by SCALEL/SCALEH.
	ilb = [32]int{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008}
	// qm4 is the 4-bit (feedback) low-band inverse quantiser.
	qm4 = [16]int{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	// qm6 is the 6-bit low-band inverse quantiser used for output at 64 kbit/s.
	qm6 = [64]int{-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136}
	// High band: 2-bit quantiser.
	ihn = [3]int{0, 1, 0}
	ihp = [3]int{0, 3, 2}
	wh  = [3]int{0, -214, 798}
	rh2 = [4]int{2, 1, 2, 1}
	qm2 = [4]int{-7408, -1616, 7408, 1616}
	// qmf holds half of the symmetric 24-tap QMF, in the order the
	// even/odd polyphase sums use it.
	qmf = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
)
