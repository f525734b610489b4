//go:build !linux

package plane

import (
	"context"
	"net"
	"net/netip"
	"syscall"
)

// socket is one of the plane's UDP sockets (elsewhere than Linux: one
// socket, one datagram a read).
type socket struct {
	conn *net.UDPConn
	rc   syscall.RawConn
	addr netip.AddrPort
}

func listen(a netip.AddrPort, _ bool, readBuffer int) (*socket, error) {
	pc, err := (&net.ListenConfig{}).ListenPacket(context.Background(), "udp", a.String())
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	_ = conn.SetReadBuffer(readBuffer)
	return &socket{conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

func (s *socket) writeTo(b []byte, a netip.AddrPort) error {
	_, err := s.conn.WriteToUDPAddrPort(b, a)
	return err
}

type rawAddr struct{ a netip.AddrPort }

func toRaw(a netip.AddrPort) rawAddr { return rawAddr{a} }

type rawSend struct{}

func (rawSend) send(s *socket, b []byte, sa *rawAddr) error { return s.writeTo(b, sa.a) }

type batchReader struct {
	s    *socket
	buf  [1500]byte
	n    int
	from netip.AddrPort
}

func newBatchReader(s *socket, _ int) *batchReader { return &batchReader{s: s} }

func (r *batchReader) read() (int, error) {
	n, from, err := r.s.conn.ReadFromUDPAddrPort(r.buf[:])
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from
	return 1, nil
}

func (r *batchReader) packet(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }
