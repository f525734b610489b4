// Package presence knows who is online and on which transport: each
// user's devices (RTMP and RTMFP connections, the user's HTTP client,
// registered SIP phones), the user's event log, and the presence status
// told to every other user when it changes. It knows nothing of calls: a
// user is busy when its owner (package call) says so.
//
// Ownership: a Registry has no lock of its own; it is guarded by its
// owner's (Options.Lock, call.Service's mutex), held around every method.
// A device's departure, the end of the calls it carried and the presence
// that follows are one step no other request may see half done. The HTTP
// device timers take that lock themselves. A Device's delivery counters
// are atomic: transports update them from their own goroutines.
package presence
