// Package g711 implements ITU-T G.711 μ-law (PCMU) and A-law (PCMA).
//
// Samples are 16-bit linear PCM: μ-law uses the upper 14 bits and A-law
// the upper 13, with negative inputs taken as one's complement so that the
// quantiser is symmetric, as in the ITU-T G.191 reference code. Encoding and
// decoding are table lookups; the tables are computed once from the
// G.711 segment formulas.
package g711
