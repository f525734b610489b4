// Package flv reads and writes FLV files: the one FLV implementation that
// conversion, conference recording, the headless phone and the tests use.
// Sizes read from a file are bounded before they are allocated.
package flv
