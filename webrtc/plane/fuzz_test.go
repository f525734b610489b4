package plane

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// chromeOffer is Chromium's recvonly audio offer (testpeer.ChromeOffer)
// with a host candidate and an mDNS one.
const chromeOffer = testpeer.ChromeOffer +
	"a=candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host generation 0\r\n" +
	"a=candidate:2 1 udp 2122260223 3f1c.local 54322 typ host generation 0\r\n"

// FuzzParseSDP: no text panics ParseSDP; what it takes has a sha-256
// fingerprint, credentials, at most maxCandidates candidates, formats in
// range and an audio index that names an audio section; an answer
// written for a taken offer with audio reads back as the plane's.
func FuzzParseSDP(f *testing.F) {
	local := Params{Ufrag: "0123456789abcdef", Pwd: "0123456789abcdef0123456789abcdef", Fingerprint: make([]byte, 32)}
	fp := "sha-256 " + hexColons(local.Fingerprint)
	f.Add(chromeOffer)
	f.Add(strings.ReplaceAll(chromeOffer, "m=audio", "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\nm=audio"))
	f.Add(WriteOffer(local, fp, "sendrecv", pcmu, 77))
	if d, err := ParseSDP(chromeOffer); err == nil {
		f.Add(WriteAnswer(Answer{Offer: d, Local: local, Fingerprint: fp, Direction: "sendonly", Formats: pcmu, SSRC: 9,
			Candidates: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5000")}}))
	}
	f.Add(chromeOffer + strings.Repeat("a=candidate:3 1 udp 1 10.0.0.1 1 typ host\r\n", 40))
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseSDP(text)
		if err != nil {
			return
		}
		if len(d.Remote.Fingerprint) != 32 || d.Remote.Ufrag == "" || d.Remote.Pwd == "" {
			t.Fatalf("taken without credentials: %+v", d.Remote)
		}
		if len(d.Candidates) > maxCandidates {
			t.Fatalf("%d candidates", len(d.Candidates))
		}
		for _, sec := range d.Sections {
			for _, fm := range sec.Formats {
				if fm.PT > 127 || fm.Clock <= 0 || fm.Clock > 192000 {
					t.Fatalf("format out of range: %+v", fm)
				}
			}
			if len(sec.Formats) > 64 {
				t.Fatalf("%d formats", len(sec.Formats))
			}
		}
		if d.Audio < -1 || d.Audio >= len(d.Sections) || (d.Audio >= 0 && d.Sections[d.Audio].Kind != "audio") {
			t.Fatalf("audio index %d of %d sections", d.Audio, len(d.Sections))
		}
		if d.Audio < 0 {
			return
		}
		ans := WriteAnswer(Answer{Offer: d, Local: local, Fingerprint: fp, Direction: "recvonly", Formats: pcmu,
			Candidates: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:5000")}})
		back, err := ParseSDP(ans)
		if err != nil {
			t.Fatalf("our answer does not read back: %v\n%s", err, ans)
		}
		if !back.Lite || back.Remote.Ufrag != local.Ufrag || back.Remote.Pwd != local.Pwd || len(back.Candidates) != 1 {
			t.Fatalf("our answer reads back as %+v\n%s", back, ans)
		}
	})
}

// fuzzKey is the SRTP master key and salt of FuzzDispatch's session.
var fuzzKey, fuzzSalt = make([]byte, 16), make([]byte, 14)

// FuzzDispatch feeds datagrams to Plane.dispatch as from an address no
// check validated and from one the session took (keys in, a DTLS pipe
// nobody reads: its queue bounded): nothing panics, and nothing from an
// unbound address reaches the session's callback.
func FuzzDispatch(f *testing.F) {
	p, err := Listen(Config{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Readers: 1, Handshake: time.Hour, Consent: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(p.Close)
	peers := [2]netip.AddrPort{} // unvalidated, validated: sockets of ours, for the answers
	for i := range peers {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = c.Close() })
		peers[i] = addrOf(c)
	}
	var calls atomic.Int64
	s, err := p.NewSession(false, func(*rtp.Packet) { calls.Add(1) })
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(remoteParams, nil); err != nil {
		f.Fatal(err)
	}
	// Connected by hand: keys in, peers[1] bound, a pipe without its
	// handshake goroutine.
	const prof = srtp.ProtectionProfileAes128CmHmacSha1_80
	in, err := srtp.CreateContext(fuzzKey, fuzzSalt, prof, srtp.SRTPReplayProtection(srtpReplayWindow))
	if err != nil {
		f.Fatal(err)
	}
	s.in = in
	s.mu.Lock()
	s.pipe = newPipe(s, peers[1])
	s.bound = append(s.bound, peers[1])
	s.mu.Unlock()
	s.path.Store(&route{sock: p.socks[0], addr: peers[1], sa: toRaw(peers[1])})
	p.bind(s, peers[1])
	s.ready.Store(true)

	out, err := srtp.CreateContext(fuzzKey, fuzzSalt, prof)
	if err != nil {
		f.Fatal(err)
	}
	// The session takes a packet under its keys from the bound address:
	// the fuzzing reaches decryption and the callback.
	plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 100, SSRC: 1}, Payload: make([]byte, 160)}).Marshal()
	enc, err := out.EncryptRTP(nil, plain, nil)
	if err != nil {
		f.Fatal(err)
	}
	var inb inbound
	p.dispatch(p.socks[0], &inb, enc, peers[1])
	if calls.Load() != 1 {
		f.Fatal("the session's own packet was not taken")
	}
	for seq := uint16(1); seq <= 3; seq++ {
		plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, SSRC: uint32(seq)}, Payload: make([]byte, 160)}).Marshal()
		enc, err := out.EncryptRTP(nil, plain, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc, true)
		f.Add(enc, false)
	}
	// SRTCP under the keys (a sender report with a block, a receiver
	// report): the fuzzing reaches the reports' parsing.
	for _, rp := range []rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, RTPTime: 160, PacketCount: 3, OctetCount: 480,
			Reports: []rtcp.ReceptionReport{{SSRC: 5, TotalLost: 2, LastSenderReport: 7, Delay: 65536}}},
		&rtcp.ReceiverReport{SSRC: 2, Reports: []rtcp.ReceptionReport{{SSRC: 5, FractionLost: 9}}},
	} {
		plain, err := rp.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		enc, err := out.EncryptRTCP(nil, plain, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc, true)
	}
	l := s.Local()
	check := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(l.Ufrag+":"+remoteParams.Ufrag),
		stun.NewShortTermIntegrity(l.Pwd), stun.Fingerprint).Raw
	f.Add(check, true)
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingSuccess, stun.Fingerprint).Raw, true)
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, true) // a DTLS handshake record's start
	f.Add([]byte{0x81, 200, 0, 1, 0, 0, 0, 1}, true)                     // SRTCP
	f.Add([]byte{0x80}, false)
	f.Add([]byte{}, true)

	f.Fuzz(func(t *testing.T, b []byte, validated bool) {
		from := peers[0]
		if validated {
			from = peers[1]
		}
		unbound := p.session(from) == nil
		before := calls.Load()
		p.dispatch(p.socks[0], &inb, append([]byte(nil), b...), from)
		if unbound && calls.Load() != before {
			t.Fatalf("a datagram from an unbound address reached the session: %x", b)
		}
		s.mu.Lock()
		bound := len(s.bound)
		s.mu.Unlock()
		if bound > maxBound {
			t.Fatalf("%d addresses bound", bound)
		}
	})
}
