// Package call is flashvox's signalling for one-to-one calls: the call
// state machine between users and with a gateway's parties (package
// sipbridge, through Gateway and the per-call External handle), the
// stream names it issues and who may publish and play them, and the P2P
// hand-over between RTMFP clients. It writes call events to each user's
// event log (package events); who is online on which device is its
// presence.Registry's. It moves no media and knows nothing of RTMP or
// HTTP. Who may sign in (passwords, tokens) is package account's.
//
// Ownership: Service.mu guards the calls, the stream names and the
// presence.Registry (a device's departure and the end of its calls are
// one step); each user's events.Log has its own lock, taken inside
// Service.mu, never the reverse.
package call
