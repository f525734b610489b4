package app

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// maxMeters bounds the streams metered at once (past it a new stream goes
// unmetered: its record says bytes unknown).
const maxMeters = 100_000

// streamMeter counts what the publishers of call and room streams send
// through the hub (audio payload bytes, the codec), so that a record can
// say it when the call or membership ends. It taps every publication under
// its prefixes and of the keys it was told to expect; take hands a
// stream's counts over and forgets it.
type streamMeter struct {
	hub      *media.Hub
	prefixes []string

	mu       sync.Mutex        // a leaf lock: held for map updates and hub.Tap only
	meters   map[string]*meter // by hub key
	expected map[string]bool   // keys to meter besides the prefixes'
}

// meter is one stream's counts; its tap follows the stream's publishers
// until take.
type meter struct {
	bytes atomic.Int64
	codec atomic.Uint32     // codec.ID of the last audio frame
	seen  atomic.Bool       // an audio frame came
	tap   *media.Subscriber // a subscription outlives publishers: one follows them all
}

// Receive counts an audio frame (it runs on the publisher's goroutine).
func (m *meter) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio || f.Config {
		return
	}
	m.bytes.Add(int64(len(f.Payload)))
	m.codec.Store(uint32(f.Codec))
	m.seen.Store(true)
}

// newStreamMeter meters the streams whose keys start with one of prefixes.
func newStreamMeter(hub *media.Hub, prefixes ...string) *streamMeter {
	sm := &streamMeter{hub: hub, prefixes: prefixes, meters: map[string]*meter{}, expected: map[string]bool{}}
	hub.WatchPublications(sm.published)
	return sm
}

// published taps key at its first publication (the tap stays subscribed
// and counts a republish too).
func (sm *streamMeter) published(key string) {
	sm.mu.Lock()
	if !sm.wanted(key) {
		sm.mu.Unlock()
		return
	}
	m := sm.meters[key]
	if m == nil {
		if len(sm.meters) >= maxMeters {
			sm.mu.Unlock()
			return
		}
		m = &meter{}
		sm.meters[key] = m
	}
	if m.tap == nil {
		m.tap = sm.hub.Tap(key, m)
	}
	sm.mu.Unlock()
}

// expect meters key from its first publication on (a conference member's
// stream: the room's other keys share its prefix but are not metered).
// It takes only sm's own lock: safe under the conference's.
func (sm *streamMeter) expect(key string) {
	if sm == nil || key == "" {
		return
	}
	sm.mu.Lock()
	if len(sm.expected) < maxMeters {
		sm.expected[key] = true
	}
	sm.mu.Unlock()
}

// wanted reports whether key is metered; sm.mu held.
func (sm *streamMeter) wanted(key string) bool {
	if sm.expected[key] {
		return true
	}
	for _, p := range sm.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// metered is what a stream's publishers sent: known is false when
// nothing was published through the server (a p2p call).
type metered struct {
	bytes int64
	codec string
	known bool
}

// take returns key's counts, stops its tap and forgets it.
func (sm *streamMeter) take(key string) metered {
	if sm == nil || key == "" {
		return metered{}
	}
	sm.mu.Lock()
	m := sm.meters[key]
	delete(sm.meters, key)
	delete(sm.expected, key)
	sm.mu.Unlock()
	if m == nil {
		return metered{}
	}
	if m.tap != nil {
		m.tap.Close()
	}
	out := metered{bytes: m.bytes.Load(), known: true}
	if m.seen.Load() {
		out.codec = codec.ID(m.codec.Load()).String()
	}
	return out
}

// live is how many streams are metered now.
func (sm *streamMeter) live() int {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return len(sm.meters)
}
