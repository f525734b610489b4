// Package session runs the NetConnection and NetStream commands of one
// client connection over messages {type, timestamp, stream, payload}: connect,
// createStream, publish, play and the rest, mapped onto the media hub. It is
// fed by any transport that carries RTMP messages (an RTMP chunk stream,
// RTMFP flows) through the small Transport interface, so all share one
// implementation of the client contract (docs/PROTOCOL.md). It imports no
// transport: the composition root adapts each one's connections to
// Handler.Serve.
//
// Ownership: Serve's goroutine reads and dispatches every command and owns the
// session's maps; each active play runs one forwarding goroutine that owns its
// subscriber and only writes to the transport. Serve waits for all of them.
package session
