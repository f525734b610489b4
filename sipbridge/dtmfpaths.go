package sipbridge

import "time"

// A web user's digit reaches a SIP leg by two paths: as a call event
// (the page's keypad asks the call API, call.EvDTMF) and as a
// media.KindDTMF frame on the user's stream (the page's or a WHIP
// client's RFC 4733 events, webrtc/whip.go). The page uses both; a plain
// WHIP client (no page) only the second; another SIP phone's digits come
// as events and, since its leg publishes them too (rtpIn), as frames. So
// the leg sends a digit when the first path brings it and lets the other
// path's copy go: digitPaths pairs them.

// The two paths.
const (
	pathEvent = iota // call.EvDTMF
	pathFrame        // media.KindDTMF
)

// digitPairWindow is how long a digit sent from one path waits for its
// copy on the other. The copies are a network hop apart (milliseconds),
// and pairing is in order, so a key pressed twice quickly is still two
// digits; the window only forgets digits whose copy never comes (a path
// that does not carry them), so that a later press is not taken for it.
const digitPairWindow = time.Second

// maxUnpaired bounds the digits waiting for a copy on one path (a
// flooding source: the oldest go).
const maxUnpaired = 32

type sentDigit struct {
	d  byte
	at time.Time
}

// digitPaths belongs to the leg's writer goroutine.
type digitPaths struct {
	unpaired [2][]sentDigit // digits sent from each path, waiting for their copy
}

// send reports whether digit d, arriving on path at now, is to be sent:
// false when it is the copy of a digit the other path brought within
// digitPairWindow (that digit and any unpaired older ones are forgotten).
func (p *digitPaths) send(path int, d byte, now time.Time) bool {
	for i := range p.unpaired {
		q := p.unpaired[i]
		n := 0
		for n < len(q) && now.Sub(q[n].at) > digitPairWindow {
			n++
		}
		p.unpaired[i] = q[n:]
	}
	other := p.unpaired[1-path]
	for i, s := range other {
		if s.d == d {
			p.unpaired[1-path] = other[i+1:]
			return false
		}
	}
	own := p.unpaired[path]
	if len(own) == maxUnpaired {
		own = own[1:]
	}
	p.unpaired[path] = append(own, sentDigit{d, now})
	return true
}
