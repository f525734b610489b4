package rtmp

import (
	"crypto/tls"
	"net"
	"strings"
)

// Transport names, as logs and metrics show them.
const (
	TransportRTMP   = "rtmp"
	TransportRTMPE  = "rtmpe"
	TransportRTMPS  = "rtmps"
	TransportRTMPT  = "rtmpt"
	TransportRTMPTE = "rtmpte"
	TransportRTMPTS = "rtmpts"
)

// Transports lists every transport name, for metrics.
var Transports = []string{TransportRTMP, TransportRTMPE, TransportRTMPS, TransportRTMPT, TransportRTMPTE, TransportRTMPTS}

// Transporter is implemented by a net.Conn handed to ServeConn that is not a
// plain TCP conn (the RTMPT tunnel), to name its transport.
type Transporter interface {
	Transport() string
}

// transportOf names the transport of nc before the handshake; RTMPE shows
// only after it (encryptedName).
func transportOf(nc net.Conn) string {
	switch c := nc.(type) {
	case Transporter:
		return c.Transport()
	case *tls.Conn:
		return TransportRTMPS
	}
	return TransportRTMP
}

// encryptedName is the transport's name once the RTMPE handshake ran on it.
func encryptedName(transport string) string {
	switch transport {
	case TransportRTMP:
		return TransportRTMPE
	case TransportRTMPT:
		return TransportRTMPTE
	}
	return transport + "+rtmpe"
}

// Tunnelled reports whether c runs over the RTMPT tunnel (rtmpt, rtmpts,
// rtmpte): an application records its calls' transport as RTMPT.
func (c *Conn) Tunnelled() bool {
	t, ok := c.nc.(Transporter)
	return ok && strings.HasPrefix(t.Transport(), TransportRTMPT)
}
