// Package rtmfp implements RTMFP, Adobe's UDP transport for Flash (RFC 7016),
// with the Flash profile of RFC 7425: scrambled session IDs, AES-128-CBC
// packets with the Flash checksum or HMAC-SHA256 and session sequence
// numbers, the responder (and initiator) handshake with a stateless cookie
// and Diffie-Hellman groups 2 and 14, sessions and flows (fragments,
// acknowledgement ranges, retransmission, flow control, abandonment), and
// the TC layer that carries RTMP messages over flows.
//
// The layers, bottom up: package wire (VLUs, packets, chunks, crypto and
// the handshake material: certificates, Diffie-Hellman, keys, cookies),
// then here sendflow.go and recvflow.go (flows), cc.go (congestion control,
// with the optional delay-based detection), session*.go (one peer),
// server.go and server_handshake.go (the socket, the responder handshake
// and the registry of sessions), rendezvous.go (peer introduction),
// client.go (the initiator), flusher.go (sending media in bursts) and
// tc.go (RTMP messages over flows; Conn implements session.Transport).
package rtmfp
