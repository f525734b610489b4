// Package wire is RTMFP's wire format (RFC 7016, with the Flash profile of
// RFC 7425): VLUs, fields and option lists (vlu.go), the packet header and
// chunks (packet.go), packet encryption, checksum, HMAC and session
// sequence numbers (crypt.go, checksum.go), the chunk bodies (chunk_*.go),
// encoded addresses (address.go), and the handshake material: certificates
// and endpoint discriminators (cert.go), Diffie-Hellman groups (dh.go),
// keying and the session keys (keys.go) and stateless cookies (cookie.go).
//
// Byte in, byte out: it holds no sessions, sockets or timers; package
// rtmfp builds its sessions, flows and server on it. Every decoder checks
// lengths before slicing and has a fuzz target.
package wire
