// Package session runs the NetConnection and NetStream commands of one
// client connection over messages {type, timestamp, stream, payload}: connect,
// createStream, publish, play and the rest, mapped onto the media hub. It is
// fed by any transport that carries RTMP messages — package rtmp today, RTMFP
// flows later — through the small Transport interface, so both share one
// implementation of the client contract (docs/PROTOCOL.md).
//
// Ownership: Serve's goroutine reads and dispatches every command and owns the
// session's maps; each active play runs one forwarding goroutine that owns its
// subscriber and only writes to the transport. Serve waits for all of them.
package session
