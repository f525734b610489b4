// Package rtmp is the connection layer of RTMP: a Conn that runs the chunk
// stream (rtmp/chunk) after the handshake (rtmp/handshake) with one reader
// and one writer goroutine and answers the protocol control messages
// itself, a Server that owns the listener and its conns, a Client, and the
// server's metrics. The messages themselves are rtmp/message's.
//
// It knows nothing of publish/play semantics or the media hub: the command
// layer above reads Messages from a Conn and writes Messages to it.
package rtmp
