package plane

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/logging"
	"github.com/pion/srtp/v3"
)

// dtlsQueue bounds the DTLS records waiting for a session's handshake
// goroutine: a flight is a few records; more are dropped (DTLS
// retransmits).
const dtlsQueue = 32

// maxDTLSRecord bounds a DTLS datagram taken (a flight's datagram is
// under the path MTU).
const maxDTLSRecord = 1500

// pipe is the net.PacketConn pion/dtls reads and writes: the plane's
// reader hands it the session's DTLS datagrams, its writes go out of
// the session's route.
type pipe struct {
	s     *Session
	raddr net.Addr
	in    chan []byte
	stop  chan struct{}
	once  sync.Once

	// The read deadline. pion/dtls stops its record reader by setting
	// one in the past (netctx) when a handshake fails; a read that
	// ignored it kept the failed handshake, its goroutines and the
	// session until the session's own deadline.
	dmu     sync.Mutex
	expired chan struct{} // closed when the deadline has passed
	gen     uint64        // which SetReadDeadline a timer belongs to
	timer   *time.Timer
}

func newPipe(s *Session, a netip.AddrPort) *pipe {
	return &pipe{s: s, raddr: net.UDPAddrFromAddrPort(a), in: make(chan []byte, dtlsQueue), stop: make(chan struct{}),
		expired: make(chan struct{})}
}

// dtlsPacket queues a copy of b for the handshake goroutine.
func (s *Session) dtlsPacket(b []byte) {
	s.mu.Lock()
	pp := s.pipe
	s.mu.Unlock()
	if pp == nil || len(b) > maxDTLSRecord {
		return
	}
	if !dtlsRecordsOK(b) {
		s.p.Stats.BadDTLS.Add(1)
		return
	}
	select {
	case pp.in <- append([]byte(nil), b...):
	default:
	}
}

// dtlsRecordsOK says whether every record of a DTLS datagram is one a
// peer may send: pion/dtls answers some records it cannot take, which
// nothing authenticates, with a fatal alert to the peer, ending the
// peer's side of the session — a change_cipher_spec other than the one
// byte 1 (it is never encrypted), application data at epoch 0, a content
// type it does not know. Anyone who can put the peer's address on a
// datagram could send one. Handshake records and alerts go through:
// pion discards bad ones itself (and drops plaintext alerts once the
// handshake is done).
func dtlsRecordsOK(b []byte) bool {
	const hdr = 13 // type, version, epoch, sequence number, length
	for len(b) > 0 {
		if len(b) < hdr {
			return false
		}
		n := hdr + int(binary.BigEndian.Uint16(b[11:13]))
		if n > len(b) {
			return false
		}
		epoch := binary.BigEndian.Uint16(b[3:5])
		switch b[0] {
		case 20: // change_cipher_spec
			if n != hdr+1 || b[hdr] != 1 {
				return false
			}
		case 21, 22: // alert, handshake
		case 23: // application_data
			if epoch == 0 {
				return false
			}
		default:
			return false
		}
		b = b[n:]
	}
	return true
}

func (pp *pipe) ReadFrom(b []byte) (int, net.Addr, error) {
	pp.dmu.Lock()
	expired := pp.expired
	pp.dmu.Unlock()
	select {
	case <-pp.stop:
		return 0, nil, net.ErrClosed
	case <-expired:
		return 0, nil, os.ErrDeadlineExceeded
	default:
	}
	select {
	case pkt := <-pp.in:
		return copy(b, pkt), pp.raddr, nil
	case <-pp.stop:
		return 0, nil, net.ErrClosed
	case <-expired:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// SetReadDeadline sets when reads fail with os.ErrDeadlineExceeded (the
// zero time: never), a read waiting then included.
func (pp *pipe) SetReadDeadline(t time.Time) error {
	pp.dmu.Lock()
	defer pp.dmu.Unlock()
	pp.gen++
	if pp.timer != nil {
		pp.timer.Stop()
		pp.timer = nil
	}
	select {
	case <-pp.expired: // passed: a fresh one for the new deadline
		pp.expired = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return nil
	}
	d := time.Until(t)
	if d <= 0 {
		close(pp.expired)
		return nil
	}
	gen, ch := pp.gen, pp.expired
	pp.timer = time.AfterFunc(d, func() {
		pp.dmu.Lock()
		defer pp.dmu.Unlock()
		if pp.gen == gen { // not moved since
			close(ch)
		}
	})
	return nil
}

func (pp *pipe) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-pp.stop:
		return 0, net.ErrClosed
	default:
	}
	r := pp.s.path.Load()
	if err := r.sock.writeTo(b, r.addr); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (pp *pipe) close() {
	pp.once.Do(func() {
		close(pp.stop)
		_ = pp.SetReadDeadline(time.Time{}) // stops a timer
	})
}

func (pp *pipe) Close() error                     { pp.close(); return nil }
func (pp *pipe) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(pp.s.path.Load().sock.addr) }
func (pp *pipe) SetDeadline(t time.Time) error    { return pp.SetReadDeadline(t) }
func (pp *pipe) SetWriteDeadline(time.Time) error { return nil } // writes do not block

// srtpProfiles are offered in this order: AES-GCM first (one pass with
// AES-NI), then the profile every WebRTC stack must have.
var srtpProfiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}

// srtpReplayWindow is the SRTP replay window, in packets (RFC 3711's
// minimum is 64).
const srtpReplayWindow = 128

// runDTLS does the handshake over pp, derives the SRTP keys, and then
// reads on so that a close_notify or alert ends the session.
func (s *Session) runDTLS(pp *pipe) {
	defer s.p.wg.Done()
	opts := []dtls.Option{
		dtls.WithCertificates(s.p.cert),
		dtls.WithSRTPProtectionProfiles(srtpProfiles...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		// The peer's certificate is self-signed: what vouches for it is
		// the SDP fingerprint the signalling carried, checked here.
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !s.fingerprintOK(raw[0]) {
				return errors.New("plane: DTLS certificate does not match the SDP fingerprint")
			}
			return nil
		}),
		dtls.WithLoggerFactory(QuietLogs()),
	}
	var (
		c   *dtls.Conn
		err error
	)
	if s.dialling {
		co := make([]dtls.ClientOption, len(opts))
		for i, o := range opts {
			co[i] = o
		}
		c, err = dtls.ClientWithOptions(pp, pp.raddr, co...)
	} else {
		so := make([]dtls.ServerOption, 0, len(opts)+1)
		for _, o := range opts {
			so = append(so, o)
		}
		so = append(so, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		c, err = dtls.ServerWithOptions(pp, pp.raddr, so...)
	}
	if err != nil {
		s.fail(fmt.Errorf("plane: dtls: %w", err))
		return
	}
	defer c.Close()
	s.mu.Lock()
	s.dconn = c
	s.mu.Unlock()
	select {
	case <-s.done: // closed before it was recorded
		return
	default:
	}
	ctx, cancel := context.WithDeadline(context.Background(), s.created.Add(s.p.cfg.Handshake))
	go func() { // the session's end aborts the handshake
		select {
		case <-s.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	err = c.HandshakeContext(ctx)
	late := errors.Is(ctx.Err(), context.DeadlineExceeded) // not the session's end
	cancel()
	if err != nil && late {
		// The same end as the watch's deadline (which this one, due at
		// the same instant, usually beats), counted the same.
		s.expire(errHandshakeTime)
		return
	}
	if err != nil {
		s.fail(fmt.Errorf("plane: dtls handshake: %w", err))
		return
	}
	if err := s.keys(c); err != nil {
		s.fail(err)
		return
	}
	s.ready.Store(true)
	close(s.connected)
	buf := make([]byte, maxDTLSRecord)
	for {
		_, err := c.Read(buf)
		switch {
		case err == nil: // application data: none is used
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
			// The connection ended: the peer's close_notify or fatal
			// alert (encrypted: plaintext ones pion drops), or ours.
			s.fail(fmt.Errorf("plane: dtls: %w", err))
			return
		default:
			// A record pion refused and reads on after: a malformed or
			// out-of-place one in the clear (application data at epoch
			// 0, a bad change_cipher_spec, an unknown type). Anyone
			// who can put the peer's address on a datagram can send
			// one: ending the session on it handed them a kill switch.
			s.p.Stats.BadDTLS.Add(1)
		}
	}
}

// keys derives the SRTP contexts from the handshake (RFC 5764 §4.2).
func (s *Session) keys(c *dtls.Conn) error {
	dp, ok := c.SelectedSRTPProtectionProfile()
	if !ok {
		return errors.New("plane: the peer chose no SRTP profile")
	}
	var prof srtp.ProtectionProfile
	switch dp {
	case dtls.SRTP_AEAD_AES_128_GCM:
		prof = srtp.ProtectionProfileAeadAes128Gcm
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		prof = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return fmt.Errorf("plane: SRTP profile %#x not offered", dp)
	}
	st, ok := c.ConnectionState()
	if !ok {
		return errors.New("plane: no DTLS state")
	}
	cfg := srtp.Config{Profile: prof}
	if err := cfg.ExtractSessionKeysFromDTLS(&st, s.dialling); err != nil {
		return fmt.Errorf("plane: SRTP keys: %w", err)
	}
	out, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, prof)
	if err != nil {
		return fmt.Errorf("plane: SRTP context: %w", err)
	}
	in, err := srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, prof, srtp.SRTPReplayProtection(srtpReplayWindow), srtp.SRTCPReplayProtection(srtpReplayWindow))
	if err != nil {
		return fmt.Errorf("plane: SRTP context: %w", err)
	}
	s.wmu.Lock()
	s.out = out
	s.wmu.Unlock()
	s.rmu.Lock()
	s.in = in
	s.rmu.Unlock()
	return nil
}

// QuietLogs is a pion logger factory that logs nothing: pion/dtls here,
// and the pion/ice and pion/turn servers of package webrtc, would log
// per-packet trouble a peer can cause at will; flashvox logs what ends
// a session, and counts the rest.
func QuietLogs() logging.LoggerFactory {
	return &logging.DefaultLoggerFactory{Writer: io.Discard, DefaultLogLevel: logging.LogLevelDisabled}
}
