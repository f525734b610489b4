// Package call is flashvox's signalling for one-to-one calls: users'
// devices, presence, the call state machine, and the call and presence
// events it writes to each user's event log (package events), which every
// transport (RTMP pushes, HTTP polling and long-poll) reads with its own
// cursor. It decides who may publish and play which stream; it moves
// no media and knows nothing of RTMP or HTTP. Who may sign in (passwords,
// tokens) is package account's.
//
// Ownership: Service.mu guards users, devices, calls and stream names; each
// user's Log has its own lock (taken inside Service.mu, never the reverse).
package call
