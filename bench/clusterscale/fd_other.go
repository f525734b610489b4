//go:build !linux

package main

import (
	"errors"
	"net"
)

var errNoPoll = errors.New("-readers poll needs Linux")

func takeFD(net.Conn) (int, error)    { return -1, errNoPoll }
func recvNB(int, []byte) (int, error) { return 0, errNoPoll }
func sendNB(int, []byte) (int, error) { return 0, errNoPoll }
func closeFD(int)                     {}
