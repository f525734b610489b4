package sipbridge

import (
	"maps"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/connlimit"
)

// Stats are the bridge's counters, read by the metrics exporter at scrape time.
type Stats struct {
	Active   atomic.Int64  // SIP calls established now
	Attempts atomic.Uint64 // SIP calls tried, both directions
	RTPIn    atomic.Uint64 // RTP packets received
	RTPOut   atomic.Uint64 // RTP packets sent
	RTPLost  atomic.Uint64 // RTP packets missing by sequence number
	// RTPWrongSource counts RTP packets dropped for coming from another
	// address than the call's locked source (strict RTP, strictrtp.go).
	RTPWrongSource atomic.Uint64
	// Audio frames sent to SIP peers: passed through (the web side was
	// already in the leg's codec: nothing decoded, only RTP packetising)
	// or transcoded by the hub's shared transcoder.
	FramesPassedThrough atomic.Uint64
	FramesTranscoded    atomic.Uint64
	Forbidden           atomic.Uint64 // INVITEs refused with 403 before any call (wrong credentials, throttled)
	// AuthFailures counts REGISTERs and INVITEs with wrong credentials
	// (a wrong password, an unknown user, a uri not the Request-URI).
	AuthFailures atomic.Uint64
	// AuthThrottled counts credential checks refused unchecked because
	// the address (or the address on that account) failed too often.
	AuthThrottled atomic.Uint64
	// AuthReplays counts right credentials refused for their nonce: a
	// nonce-count used before, or a nonce issued to another address.
	AuthReplays atomic.Uint64
	// Registrations is the number of registered SIP phone contacts now.
	Registrations atomic.Int64
	// TrunkRegistered is the number of trunks our binding is current at;
	// TrunkRegisters counts successful REGISTERs to trunks (refreshes too).
	TrunkRegistered atomic.Int64
	TrunkRegisters  atomic.Uint64
	// Holds counts re-INVITEs that put a call on hold.
	Holds atomic.Uint64
	// Conns are the accepted SIP/TCP and SIP/TLS connections: open now,
	// refused (over the per-address limit), closed idle.
	Conns connlimit.Stats
	// RTCPMalformed counts RTCP packets from peers that did not parse;
	// SIPMalformed SIP messages that did not; LogSuppressed the SIP
	// libraries' log lines over their rate (liblog.go).
	RTCPMalformed atomic.Uint64
	SIPMalformed  atomic.Uint64
	LogSuppressed atomic.Uint64
	mu            sync.Mutex
	failures      map[int]uint64 // by SIP status
	codecs        map[string]uint64
}

// established counts a SIP leg whose media runs with codec id.
func (s *Stats) established(id codec.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codecs == nil {
		s.codecs = map[string]uint64{}
	}
	s.codecs[id.String()]++
}

// Codecs returns the established SIP legs by negotiated codec ("g722": 2).
func (s *Stats) Codecs() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.codecs)
}

// fail counts a call that failed with SIP status code.
func (s *Stats) fail(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == nil {
		s.failures = map[int]uint64{}
	}
	s.failures[code]++
}

// Failures returns the failed calls by SIP status ("486": 3), sorted keys
// in Codes.
func (s *Stats) Failures() (codes []string, counts map[string]uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts = make(map[string]uint64, len(s.failures))
	for c, n := range s.failures {
		k := strconv.Itoa(c)
		codes = append(codes, k)
		counts[k] = n
	}
	sort.Strings(codes)
	return codes, counts
}
