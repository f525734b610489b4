// Package audiotest holds helpers for codec tests: test signals, SNR with
// lag search, WAV and FLV audio-tag files, and running ffmpeg as the
// reference. It is for tests only.
package audiotest
