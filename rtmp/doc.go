// Package rtmp is the wire and session layer of RTMP: the chunk stream in
// both directions (after the handshake of rtmp/handshake, carrying the
// messages of rtmp/message), the protocol control a Conn answers itself, a Conn with one reader and one writer goroutine, a Server
// that owns the listener and its conns, and a Client.
//
// It knows nothing of publish/play semantics or the media hub: the command
// layer above reads Messages from a Conn and writes Messages to it.
//
// The chunk stream is written here rather than taken from gortmplib's
// pkg/rawmessage: rawmessage lacks the 2- and 3-byte chunk stream id forms,
// has a hard 10 MiB message limit and allocates the declared body size before
// any of the body arrives, which lets one header claim memory it never sends.
package rtmp
