package plane

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socket is one of the plane's UDP sockets on its port.
type socket struct {
	conn *net.UDPConn
	rc   syscall.RawConn
	addr netip.AddrPort
}

// listen binds a (with SO_REUSEPORT when shared: every socket of the
// plane on one port, the kernel spreading peers over them by address).
func listen(a netip.AddrPort, shared bool, readBuffer int) (*socket, error) {
	lc := net.ListenConfig{}
	if shared {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			})
			return errors.Join(err, serr)
		}
	}
	network := "udp4"
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		network = "udp6"
	}
	pc, err := lc.ListenPacket(context.Background(), network, a.String())
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	_ = conn.SetReadBuffer(readBuffer)
	rc, err := conn.SyscallConn()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &socket{conn: conn, rc: rc, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// writeTo sends b to a the ordinary way: STUN answers and DTLS, a few
// packets a session.
func (s *socket) writeTo(b []byte, a netip.AddrPort) error {
	_, err := s.conn.WriteToUDPAddrPort(b, a)
	return err
}

// rawAddr is a peer's address as sendto(2) takes it, built once per
// route.
type rawAddr struct {
	sa unix.RawSockaddrInet6 // large enough for a sockaddr_in too
	n  uint32
}

func toRaw(a netip.AddrPort) rawAddr {
	var r rawAddr
	port := (*[2]byte)(unsafe.Pointer(&r.sa.Port)) // network order in memory
	port[0], port[1] = byte(a.Port()>>8), byte(a.Port())
	if a.Addr().Is4() {
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		v4.Family = unix.AF_INET
		v4.Addr = a.Addr().As4()
		r.n = unix.SizeofSockaddrInet4
		return r
	}
	r.sa.Family = unix.AF_INET6
	r.sa.Addr = a.Addr().As16()
	r.n = unix.SizeofSockaddrInet6
	return r
}

// rawSend is a writer's sendto(2) state: its callback is bound once, so
// a send allocates nothing. Whoever owns it serialises its sends (a
// session's write lock). The raw system call does not enter the
// scheduler's syscall state, which would wake the runtime's sysmon
// after every idle spell (rtmp/fdread_linux.go says more); the socket is
// non-blocking and RawConn parks the caller on EAGAIN.
type rawSend struct {
	fn  func(fd uintptr) bool
	b   []byte
	sa  *rawAddr
	err error
}

func (w *rawSend) send(s *socket, b []byte, sa *rawAddr) error {
	if w.fn == nil {
		w.fn = w.sendto
	}
	w.b, w.sa, w.err = b, sa, nil
	err := s.rc.Write(w.fn)
	w.b, w.sa = nil, nil
	if err != nil {
		return err
	}
	return w.err
}

func (w *rawSend) sendto(fd uintptr) bool {
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&w.b[0])), uintptr(len(w.b)), 0,
		uintptr(unsafe.Pointer(&w.sa.sa)), uintptr(w.sa.n))
	switch e {
	case 0:
	case unix.EAGAIN:
		return false
	case unix.EINTR:
		return w.sendto(fd)
	default:
		w.err = e
	}
	return true
}

// maxDatagram is the largest datagram read whole (a path MTU's).
const maxDatagram = 1500

// batchReader reads a socket with recvmmsg(2): up to len(msgs)
// datagrams a system call, each into its own buffer with its source
// address.
type batchReader struct {
	s     *socket
	fn    func(fd uintptr) bool
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	bufs  [][maxDatagram]byte
	n     int
	err   error
}

func newBatchReader(s *socket, batch int) *batchReader {
	r := &batchReader{s: s, msgs: make([]unix.Mmsghdr, batch), iovs: make([]unix.Iovec, batch),
		names: make([]unix.RawSockaddrInet6, batch), bufs: make([][maxDatagram]byte, batch)}
	for i := range r.msgs {
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(maxDatagram)
		r.msgs[i].Hdr.Iov = &r.iovs[i]
		r.msgs[i].Hdr.SetIovlen(1)
		r.msgs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.fn = r.recv
	return r
}

// read waits for datagrams and returns how many came.
func (r *batchReader) read() (int, error) {
	r.n, r.err = 0, nil
	if err := r.s.rc.Read(r.fn); err != nil {
		return 0, err
	}
	return r.n, r.err
}

func (r *batchReader) recv(fd uintptr) bool {
	for i := range r.msgs {
		r.msgs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.msgs[i].Hdr.Flags = 0
		r.msgs[i].Len = 0
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.msgs[0])), uintptr(len(r.msgs)), 0, 0, 0)
	switch e {
	case 0:
		r.n = int(n)
	case unix.EAGAIN:
		return false
	case unix.EINTR:
		return r.recv(fd)
	default:
		r.err = e
	}
	return true
}

// packet is datagram i of the last read and its source. A truncated
// datagram (longer than maxDatagram) comes back empty.
func (r *batchReader) packet(i int) ([]byte, netip.AddrPort) {
	m := &r.msgs[i]
	if m.Hdr.Flags&unix.MSG_TRUNC != 0 {
		return nil, netip.AddrPort{}
	}
	b := r.bufs[i][:m.Len]
	sa := &r.names[i]
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p := uint16(port[0])<<8 | uint16(port[1])
	switch sa.Family {
	case unix.AF_INET:
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return b, netip.AddrPortFrom(netip.AddrFrom4(v4.Addr), p)
	case unix.AF_INET6:
		return b, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), p)
	}
	return nil, netip.AddrPort{}
}
