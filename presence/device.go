package presence

import (
	"sync/atomic"
	"time"
)

// Device kinds.
const (
	KindRTMP = "rtmp" // RTMP, RTMPS, RTMPE
	// KindRTMPT is an RTMP connection through the HTTP tunnel (RTMPT,
	// RTMPTS, RTMPTE): call records name it apart from plain RTMP.
	KindRTMPT = "rtmpt"
	// KindRTMFP is an RTMFP connection (a kind of its own so that call
	// records tell the transports apart).
	KindRTMFP = "rtmfp"
	KindHTTP  = "http"
	// KindSIP is a SIP phone registered as the user (package sipbridge):
	// it rings for every call to the user and places calls as the user.
	KindSIP = "sip"
)

// Device is one connection of a user: an RTMP or RTMFP connection, a SIP
// phone, or the user's HTTP client (all HTTP requests of a user are one
// device).
type Device struct {
	ID   string
	User string
	Kind string

	// Guarded by the Registry's lock.
	direct   bool        // may carry media peer to peer (RTMFP)
	inflight int         // HTTP: requests in flight
	expiry   *time.Timer // HTTP: ends the device after the last request
	gone     bool

	// Pushing transports (RTMP, RTMFP) report how far they have written
	// the user's events to the client (Delivered); Undelivered counts
	// the devices that are behind.
	pushes    atomic.Bool
	delivered atomic.Uint64
}

// Delivered records that a pushing transport has written its user's
// events before cursor to the client. Safe from any goroutine.
func (d *Device) Delivered(cursor uint64) {
	d.delivered.Store(cursor)
	d.pushes.Store(true)
}

// SetDirect marks d as able to carry media peer to peer (its transport is
// RTMFP). Under the Registry's lock.
func (d *Device) SetDirect() { d.direct = true }

// Direct reports SetDirect. Under the Registry's lock.
func (d *Device) Direct() bool { return d.direct }
