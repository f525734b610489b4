// Package wav reads and writes 16-bit PCM WAV files: the one WAV
// implementation that conversion, conference recording, the headless
// phone and the tests use. Writers rewrite the header sizes at
// checkpoints, never claiming more than the file holds.
package wav
