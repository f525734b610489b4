package sipbridge

import "testing"

// sdpDirectionCases drive TestSDPDirection and seed FuzzSDPDirection.
var sdpDirectionCases = []struct {
	sdp, want string
}{
	{"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", dirSendRecv},
	{"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", dirSendOnly},
	{"v=0\nm=audio 4000 RTP/AVP 0\na=recvonly\n", dirRecvOnly},
	{"v=0\r\na=inactive\r\nm=audio 4000 RTP/AVP 0\r\n", dirInactive},
	{"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv", dirSendRecv},
	{"a=sendonlyx\r\n", dirSendRecv},
	{"", dirSendRecv},
}

func TestSDPDirection(t *testing.T) {
	for _, c := range sdpDirectionCases {
		if got := sdpDirection([]byte(c.sdp)); got != c.want {
			t.Errorf("sdpDirection(%q) = %s, want %s", c.sdp, got, c.want)
		}
	}
}

// FuzzSDPDirection: any input yields one of the four directions, never a panic.
func FuzzSDPDirection(f *testing.F) {
	for _, c := range sdpDirectionCases {
		f.Add([]byte(c.sdp))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch d := sdpDirection(b); d {
		case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
		default:
			t.Fatalf("direction %q", d)
		}
	})
}
