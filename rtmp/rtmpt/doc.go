// Package rtmpt is the RTMPT tunnel: RTMP carried in HTTP POSTs, as Flash
// Player, ffmpeg and rtmpdump speak it when 1935 is blocked.
//
// A client opens a session with POST /open/1 (the answer is the session id
// and a newline), then sends its RTMP bytes with POST /send/ID/SEQ and polls
// with POST /idle/ID/SEQ; every answer starts with a polling-interval byte
// followed by whatever the server has for the client. POST /close/ID/SEQ
// ends the session. Each session is a net.Conn (Conn) that the Tunnel hands
// to an RTMP server's ServeConn, so the handshake (plain or RTMPE, which makes
// RTMPTE), the chunk stream and the sessions are the same code as over TCP.
//
// The tunnel does not import package rtmp: it only needs a ConnServer.
//
// Ownership: the Tunnel's registry (mu) owns the session map; each session
// owns its two byte buffers under its own mutex; one request at a time runs
// per session (reqMu), which keeps sequence checks and answers in order.
package rtmpt
