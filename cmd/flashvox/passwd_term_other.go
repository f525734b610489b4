//go:build !linux

package main

import (
	"errors"
	"io"
	"os"
)

// isTerminal is false where the no-echo prompt is not implemented: the
// password is then read as a line from standard input.
func isTerminal(*os.File) bool { return false }

func readNoEcho(*os.File, io.Writer, string) (string, error) {
	return "", errors.New("no terminal support")
}
