package transcode

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
)

// Remote fetches variants (a stream's audio in a codec) transcoded on the
// node that publishes the stream, so that a cluster transcodes each
// (stream, codec) once, on the publisher's node (package cluster).
type Remote interface {
	// Variant is asked when the first subscriber of key's variant (id,
	// rate) comes. When key is published on this node by a local client
	// it returns nil: the variant is transcoded here. Otherwise it returns
	// a handle and publishes the variant on its derived key,
	// Key(key, id, rate), once the node that publishes key sends it; the
	// handle's Close (the variant's last subscriber left) stops that.
	//
	// Variant must not block or call the Service. local is called (from
	// another goroutine) when the variant must be transcoded here after
	// all: the publishing node refused it, or key came to be published
	// here. It reports whether it did (false: the transcoding budget is
	// used up or the variant has no subscriber any more); the Remote
	// stops publishing the derived key before calling it.
	Variant(key string, id codec.ID, rate int, local func() bool) io.Closer
}

// SetRemote makes the Service ask r for variants before transcoding them
// here. Set it before the first Subscribe.
func (s *Service) SetRemote(r Remote) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote = r
}

// Variant is the name of the variant (id, rate) in a derived key and
// between nodes: "speex", "nellymoser@8000" (the part of Key after
// media.DerivedSep).
func Variant(id codec.ID, rate int) string {
	_, v, _ := strings.Cut(Key("", id, rate), "#")
	return v
}

// ParseVariant reads a Variant name. Only the codecs and rates this
// server can encode are accepted, in their canonical spelling, so a name
// from the network maps to one of a small fixed set.
func ParseVariant(v string) (id codec.ID, rate int, ok bool) {
	if len(v) > 32 {
		return 0, 0, false
	}
	name, r, hasRate := strings.Cut(v, "@")
	id, ok = codec.ParseID(name)
	if !ok {
		return 0, 0, false
	}
	in, ok := codec.Lookup(id)
	if !ok {
		return 0, 0, false
	}
	rate = in.SampleRate
	if hasRate {
		n, err := strconv.Atoi(r)
		if err != nil {
			return 0, 0, false
		}
		rate = n
	}
	if !slices.Contains(codecs.Rates(id), rate) || Variant(id, rate) != v {
		return 0, 0, false
	}
	return id, rate, true
}

// subscribeRemoteLocked starts t, a new variant entry, as a fetch from
// another node when the Remote takes it. Called with s.mu held.
func (s *Service) subscribeRemoteLocked(key, dkey string, t Target, rate int) *transcoder {
	if s.remote == nil || t.Budget < 0 { // < 0: no ?codec= on this node at all
		return nil
	}
	tc := &transcoder{s: s, key: key, dkey: dkey, target: t.Codec, rate: rate, budget: t.Budget}
	h := s.remote.Variant(key, t.Codec, rate, func() bool { return s.localize(tc) })
	if h == nil {
		return nil
	}
	tc.remote = h
	s.running[dkey] = tc
	s.Stats.RemoteVariants.Add(1)
	if s.log != nil {
		s.log.Debug("variant fetched from another node", "stream", key, "codec", t.Codec, "rate", rate)
	}
	return tc
}

// localize turns tc, a variant fetched from another node, into a
// transcoder here, if it still has subscribers and the budget of its
// first subscriber allows it.
func (s *Service) localize(tc *transcoder) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[tc.dkey] != tc || tc.remote == nil {
		return false
	}
	if tc.budget != 0 && (tc.budget < 0 || s.Stats.BudgetTranscoders.Load() >= int64(tc.budget)) {
		return false
	}
	tc.remote = nil
	s.Stats.RemoteVariants.Add(-1)
	tc.budgeted = tc.budget != 0
	s.runLocked(tc, nil)
	tc.start() // its subscribers are attached: they read the derived stream
	if s.log != nil {
		s.log.Info("variant transcoded here after all", "stream", tc.key, "codec", tc.target, "rate", tc.rate)
	}
	return true
}
