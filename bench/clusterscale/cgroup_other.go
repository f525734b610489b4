//go:build !linux

package main

import (
	"errors"
	"time"
)

// cpuGroups: -quota uses Linux cgroups; elsewhere it fails at once.
type cpuGroups struct{}

type cpuGroup struct{}

var errNoCgroups = errors.New("-quota needs Linux cgroups")

func openCPUGroups(string, float64, time.Duration, int) (*cpuGroups, error) {
	return nil, errNoCgroups
}

func (*cpuGroups) String() string                       { return "" }
func (*cpuGroups) limit(string, int) (*cpuGroup, error) { return nil, errNoCgroups }
func (*cpuGroup) throttled() (time.Duration, error)     { return 0, nil }
func (*cpuGroup) remove() error                         { return nil }
