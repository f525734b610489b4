package wire

// checksum is the Flash packet checksum (RFC 7425 §4.3): the Internet
// checksum (RFC 1071) of the packet, a trailing odd byte added as the low
// byte.
func checksum(b []byte) uint16 {
	var sum uint32
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 != 0 {
		sum += uint32(b[len(b)-1])
	}
	sum = sum>>16 + sum&0xffff
	sum += sum >> 16
	return ^uint16(sum)
}
