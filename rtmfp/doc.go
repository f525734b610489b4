// Package rtmfp implements RTMFP, Adobe's UDP transport for Flash (RFC 7016),
// with the Flash profile of RFC 7425: scrambled session IDs, AES-128-CBC
// packets with the Flash checksum or HMAC-SHA256 and session sequence
// numbers, the responder (and initiator) handshake with a stateless cookie
// and Diffie-Hellman groups 2 and 14, sessions and flows (fragments,
// acknowledgement ranges, retransmission, flow control, abandonment), and
// the TC layer that carries RTMP messages over flows.
//
// The layers, bottom up: vlu.go (VLUs, fields, option lists), packet.go
// (header and chunks), crypt.go (encryption, checksum, HMAC, sequence
// numbers), chunk_*.go (chunk bodies), cert.go, dh.go, keys.go, cookie.go
// (handshake material), sendflow.go and recvflow.go (flows), cc.go
// (congestion control, with the optional delay-based detection),
// session*.go (one peer), server.go (the socket and the registry of
// sessions), flusher.go (sending media in bursts) and tc.go (RTMP messages over flows; Conn implements session.Transport).
package rtmfp
