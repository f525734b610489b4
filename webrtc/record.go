package webrtc

import (
	"time"

	"github.com/flashvox/flashvox/webrtc/plane"
)

// SessionRecord is what a WHIP or WHEP session that connected (ICE and
// DTLS) leaves when it ends, for the operator's records (Options.Records).
type SessionRecord struct {
	// ID is the session's (its URL's last segment), Stream the hub key,
	// Addr the browser's IP address.
	ID, Stream, Addr string
	Publish          bool // WHIP: the browser sent; else WHEP
	Codec, Engine    string
	Started, Ended   time.Time
	Reason           string
	// Reports are what the session's media and RTCP said both ways. The
	// pion engine's leave ReportsSent 0 (its interceptor sends them) and
	// take the round trip from the reports alone (RFC 3550 A − LSR − DLSR).
	Reports *plane.Reports
}

// Recorder receives the record of every connected session that ends, on
// the goroutine that ends it: it must return at once (queue it).
type Recorder interface {
	SessionEnded(SessionRecord)
}

// record hands p's record to Options.Records, if any and p connected.
func (p *peerSession) record(why string, r *plane.Reports) {
	if p.s.o.Records == nil || !p.connected.Load() {
		return
	}
	engine := EnginePion
	if p.ls != nil {
		engine = EngineLite
	}
	p.s.o.Records.SessionEnded(SessionRecord{ID: p.id, Stream: p.key, Addr: p.ip, Publish: p.publish,
		Codec: p.codec.id.String(), Engine: engine, Started: p.created, Ended: time.Now(), Reason: why, Reports: r})
}
