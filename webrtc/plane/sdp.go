package plane

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Format is one RTP payload format of an SDP media section.
type Format struct {
	PT       uint8
	Name     string // lower case: "opus", "pcmu", "telephone-event"
	Clock    int
	Channels int    // 0 when the rtpmap has none
	Fmtp     string // the a=fmtp value, "" if none
}

// Section is what the plane reads of an SDP media section.
type Section struct {
	Kind      string // "audio", "video", "application"
	Proto     string
	Mid       string
	Direction string // sendrecv, sendonly, recvonly, inactive
	Formats   []Format
	FirstFmt  string // the m= line's first format, for a rejection
}

// Description is an offer or answer as the plane reads it: the ICE
// credentials and fingerprint (media level over session level), the
// media sections, the first audio one's index, the host candidates.
type Description struct {
	Remote     Params
	Setup      string // a=setup: actpass, active, passive
	Lite       bool
	Sections   []Section
	Audio      int // index of the first audio section, -1 if none
	Candidates []netip.AddrPort
}

// maxCandidates bounds the candidates read from a description.
const maxCandidates = 16

// ParseSDP reads an SDP offer or answer.
func ParseSDP(text string) (Description, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(text); err != nil {
		return Description{}, fmt.Errorf("plane: sdp: %w", err)
	}
	out := Description{Audio: -1}
	var c creds // session level, then the first audio section's over it
	for _, a := range d.Attributes {
		c.take(a)
		out.Lite = out.Lite || a.Key == "ice-lite"
	}
	for i, m := range d.MediaDescriptions {
		sec := Section{Kind: m.MediaName.Media, Proto: strings.Join(m.MediaName.Protos, "/"), Direction: "sendrecv"}
		if len(m.MediaName.Formats) > 0 {
			sec.FirstFmt = m.MediaName.Formats[0]
		}
		fmtp := map[string]string{}
		for _, a := range m.Attributes {
			switch a.Key {
			case "mid":
				sec.Mid = a.Value
			case "sendrecv", "sendonly", "recvonly", "inactive":
				sec.Direction = a.Key
			case "rtpmap":
				if f, ok := ParseRtpmap(a.Value); ok && len(sec.Formats) < 64 {
					sec.Formats = append(sec.Formats, f)
				}
			case "fmtp":
				pt, v, _ := strings.Cut(a.Value, " ")
				fmtp[pt] = v
			case "candidate":
				if c, ok := hostCandidate(a.Value); ok && len(out.Candidates) < maxCandidates {
					out.Candidates = append(out.Candidates, c)
				}
			}
			if out.Audio < 0 && sec.Kind == "audio" {
				c.take(a)
			}
		}
		for j := range sec.Formats {
			sec.Formats[j].Fmtp = fmtp[strconv.Itoa(int(sec.Formats[j].PT))]
		}
		if out.Audio < 0 && sec.Kind == "audio" {
			out.Audio = i
		}
		out.Sections = append(out.Sections, sec)
	}
	if c.ufrag == "" || c.pwd == "" {
		return out, errors.New("plane: sdp has no ICE credentials")
	}
	h, err := ParseFingerprint(c.fp)
	if err != nil {
		return out, err
	}
	out.Remote = Params{Ufrag: c.ufrag, Pwd: c.pwd, Fingerprint: h}
	out.Setup = c.setup
	return out, nil
}

// creds are the ICE and DTLS attributes of a description or section.
type creds struct{ ufrag, pwd, fp, setup string }

func (c *creds) take(a sdp.Attribute) {
	switch a.Key {
	case "ice-ufrag":
		c.ufrag = a.Value
	case "ice-pwd":
		c.pwd = a.Value
	case "fingerprint":
		c.fp = a.Value
	case "setup":
		c.setup = a.Value
	}
}

// ParseRtpmap reads an a=rtpmap value, "PT NAME/CLOCK[/CHANNELS]" (the
// name lower-cased); ok false for a payload type outside 0..127 or a
// clock outside 1..192000.
func ParseRtpmap(v string) (Format, bool) {
	pt, enc, ok := strings.Cut(v, " ")
	if !ok {
		return Format{}, false
	}
	n, err := strconv.Atoi(pt)
	if err != nil || n < 0 || n > 127 {
		return Format{}, false
	}
	parts := strings.Split(enc, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Format{}, false
	}
	clock, err := strconv.Atoi(parts[1])
	if err != nil || clock <= 0 || clock > 192000 {
		return Format{}, false
	}
	f := Format{PT: uint8(n), Name: strings.ToLower(parts[0]), Clock: clock}
	if len(parts) == 3 {
		f.Channels, _ = strconv.Atoi(parts[2])
	}
	return f, true
}

// hostCandidate reads a UDP candidate's address ("FOUNDATION 1 udp PRIO
// ADDR PORT typ TYPE …"), ok false for TCP, RTCP or a name (mDNS).
func hostCandidate(v string) (netip.AddrPort, bool) {
	f := strings.Fields(v)
	if len(f) < 8 || f[1] != "1" || !strings.EqualFold(f[2], "udp") || f[6] != "typ" {
		return netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(f[4])
	port, perr := strconv.Atoi(f[5])
	if err != nil || perr != nil || port <= 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}

// Answer is what WriteAnswer writes: the plane's side of one audio
// section, the offer's other sections rejected.
type Answer struct {
	Offer       Description
	Local       Params
	Fingerprint string // Plane.Fingerprint
	Direction   string // ours: recvonly (WHIP) or sendonly (WHEP)
	Formats     []Format
	SSRC        uint32 // the source we send, when sendonly
	Candidates  []netip.AddrPort
}

// WriteAnswer writes an ICE-lite answer (RFC 8839 §5.3: a=ice-lite;
// a=setup:passive, the browser the DTLS client; rtcp-mux; one audio
// section, the offer's others with port 0).
func WriteAnswer(a Answer) string {
	if a.Offer.Audio < 0 || a.Offer.Audio >= len(a.Offer.Sections) {
		return "" // nothing to answer: the caller refuses such an offer first
	}
	var b strings.Builder
	port := uint16(9)
	if len(a.Candidates) > 0 {
		port = a.Candidates[0].Port()
	}
	mid := a.Offer.Sections[a.Offer.Audio].Mid
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", sessionID())
	if mid != "" {
		fmt.Fprintf(&b, "a=group:BUNDLE %s\r\n", mid)
	}
	b.WriteString("a=ice-lite\r\n")
	for i, sec := range a.Offer.Sections {
		if i != a.Offer.Audio {
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", sec.Kind, sec.Proto, orDefault(sec.FirstFmt, "0"))
			if sec.Mid != "" {
				fmt.Fprintf(&b, "a=mid:%s\r\n", sec.Mid)
			}
			b.WriteString("a=inactive\r\n")
			continue
		}
		writeAudio(&b, port, sec.Mid, a.Local, a.Fingerprint, "passive", a.Direction, a.Formats, a.SSRC, a.Candidates)
	}
	return b.String()
}

// WriteOffer writes a dialling session's offer: one audio section,
// a=setup:active (the dialler is the DTLS client).
func WriteOffer(local Params, fingerprint, direction string, formats []Format, ssrc uint32) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n", sessionID())
	writeAudio(&b, 9, "0", local, fingerprint, "active", direction, formats, ssrc, nil)
	return b.String()
}

func writeAudio(b *strings.Builder, port uint16, mid string, local Params, fingerprint, setup, dir string, formats []Format, ssrc uint32, cands []netip.AddrPort) {
	pts := make([]string, len(formats))
	for i, f := range formats {
		pts[i] = strconv.Itoa(int(f.PT))
	}
	ip := "0.0.0.0"
	if len(cands) > 0 && cands[0].Addr().Is4() {
		ip = cands[0].Addr().String()
	}
	fmt.Fprintf(b, "m=audio %d UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 %s\r\n", port, strings.Join(pts, " "), ip)
	if mid != "" {
		fmt.Fprintf(b, "a=mid:%s\r\n", mid)
	}
	fmt.Fprintf(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\na=%s\r\na=rtcp-mux\r\n",
		local.Ufrag, local.Pwd, fingerprint, setup, dir)
	for _, f := range formats {
		if f.Channels > 0 {
			fmt.Fprintf(b, "a=rtpmap:%d %s/%d/%d\r\n", f.PT, f.Name, f.Clock, f.Channels)
		} else {
			fmt.Fprintf(b, "a=rtpmap:%d %s/%d\r\n", f.PT, f.Name, f.Clock)
		}
		if f.Fmtp != "" {
			fmt.Fprintf(b, "a=fmtp:%d %s\r\n", f.PT, f.Fmtp)
		}
	}
	if dir == "sendonly" || dir == "sendrecv" {
		fmt.Fprintf(b, "a=msid:flashvox audio\r\na=ssrc:%d cname:flashvox\r\na=ssrc:%d msid:flashvox audio\r\n", ssrc, ssrc)
	}
	for i, c := range cands {
		// Host candidates, all of one port; priority per RFC 8445 §5.1.2.1
		// (type preference 126, local preference by order).
		prio := uint32(126)<<24 | uint32(65535-i)<<8 | 255
		fmt.Fprintf(b, "a=candidate:%d 1 udp %d %s %d typ host\r\n", i+1, prio, c.Addr(), c.Port())
	}
	if len(cands) > 0 {
		b.WriteString("a=end-of-candidates\r\n")
	}
}

func sessionID() uint64 {
	var x [8]byte
	_, _ = rand.Read(x[:])
	return binary.BigEndian.Uint64(x[:]) >> 2
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
