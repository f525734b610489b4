package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	return ioctl(f.Fd(), syscall.TCGETS, &t) == nil
}

// readNoEcho turns the terminal f's echo off, writes label to prompt and
// reads one line (the newline is still echoed).
func readNoEcho(f *os.File, prompt io.Writer, label string) (string, error) {
	var old syscall.Termios
	if err := ioctl(f.Fd(), syscall.TCGETS, &old); err != nil {
		return "", err
	}
	quiet := old
	quiet.Lflag &^= syscall.ECHO
	quiet.Lflag |= syscall.ICANON | syscall.ECHONL
	if err := ioctl(f.Fd(), syscall.TCSETS, &quiet); err != nil {
		return "", err
	}
	defer ioctl(f.Fd(), syscall.TCSETS, &old)
	fmt.Fprint(prompt, label)
	line, err := bufio.NewReader(f).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func ioctl(fd uintptr, req uint, t *syscall.Termios) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(unsafe.Pointer(t))); e != 0 {
		return e
	}
	return nil
}
