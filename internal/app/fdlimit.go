package app

import "github.com/flashvox/flashvox/config"

// fdReserve is what the process needs beside its connections: listeners,
// recordings, the runtime's own descriptors.
const fdReserve = 64

// fdNeed is how many descriptors the configured limits can use at once:
// every RTMP and HTTP connection, and an RTP and RTCP socket per port pair.
func fdNeed(cfg *config.Config) uint64 {
	need := uint64(cfg.RTMP.MaxConnections + cfg.HTTP.MaxConnections + fdReserve)
	if lo, hi, err := config.ParseRTPPorts(cfg.SIP.RTPPorts); err == nil {
		need += uint64(hi - lo + 1)
	}
	return need
}
