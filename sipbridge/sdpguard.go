package sipbridge

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	dsdp "github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo/sip"
)

// diago v0.31.0's SDP reading panics on two kinds of body, and a panic
// in the goroutine parsing it ends the process: media/sdp.nextLine
// indexes line[len-2] of a line that is a bare LF (a body starting with
// "\n" or holding "\n\n"), and media.CodecsFromSDPRead overruns its slice
// when an audio format has more than one rtpmap line, and
// sdp.ConnectionInformation indexes the third field of a shorter c=
// line. FuzzAnswerList and FuzzSDPSafe found them. Until diago is fixed:
//   - an offer is checked before we or diago parse it (AnswerWith,
//     Answer: 488);
//   - Invite recovers a panic while diago reads the answer's SDP;
//   - a UDP datagram whose body has such a line is dropped before sipgo
//     parses it (the read filter), which also covers re-INVITEs that
//     diago handles on its own goroutines. Over TCP and TLS the filter
//     sees stream chunks, not messages, so a re-INVITE of an established
//     call (a logged-in phone or a trunk) there is not covered.

// errUnsafeSDP is an SDP body diago's parser cannot take.
var errUnsafeSDP = errors.New("sip: SDP body with a bare LF line")

// sdpSafe reports whether diago's SDP reading can take body: no bare-LF
// line, a c= line of three fields, and no more rtpmap attributes for the
// audio formats than formats (media.CodecsFromSDPRead writes one codec
// per matching rtpmap into a slice sized by the formats: a repeated
// "a=rtpmap:96 ..." overruns it).
func sdpSafe(body []byte) bool {
	if bytes.HasPrefix(body, []byte("\n")) || bytes.Contains(body, []byte("\n\n")) {
		return false
	}
	if len(body) == 0 {
		return true
	}
	sd := dsdp.SessionDescription{}
	if err := dsdp.Unmarshal(body, &sd); err != nil {
		return true // diago refuses it with an error, no panic
	}
	if c := sd.Value("c"); c != "" && len(strings.Fields(c)) < 3 {
		return false // ConnectionInformation indexes fields[2]
	}
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return true
	}
	attrs := sd.Values("a")
	n := 0
	for _, f := range md.Formats {
		if f == "0" || f == "8" {
			n++
			continue
		}
		for _, a := range attrs {
			if strings.HasPrefix(a, "rtpmap:"+f+" ") {
				n++
			}
		}
	}
	return n <= len(md.Formats)
}

// filterUnsafeSDP is a sipgo read filter: a whole UDP datagram whose
// body is not sdpSafe is dropped (counted as malformed); everything else,
// TCP and TLS chunks included, passes.
func filterUnsafeSDP(st *Stats) sip.TransportReadFilter {
	return func(info sip.TransportReadProps, data []byte) ([]byte, error) {
		if info.Transport != "UDP" && info.Transport != "udp" {
			return data, nil
		}
		body := data
		if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
			body = data[i+4:]
		} else if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
			body = data[i+2:]
		} else {
			return data, nil
		}
		if len(body) > 0 && !sdpSafe(body) {
			st.SIPMalformed.Add(1)
			return nil, errUnsafeSDP
		}
		return data, nil
	}
}

// recoverSDP turns a panic of diago's SDP parser into an error.
func recoverSDP(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("sip: diago failed on the peer's SDP: %v", r)
	}
}
