//go:build !unix

package cluster

import "time"

// cpuTime is not measured here: heartbeats say cpu 0.
func cpuTime() time.Duration { return 0 }
