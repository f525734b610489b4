// Package sipbridge connects flashvox calls to SIP: web users dial phone
// numbers through a trunk, numbers called from a trunk ring web users, and
// the built-in echo extension answers and plays back what it hears.
//
// Layers, top down: Bridge (bridge.go) implements call.Gateway and owns
// the calls' SIP legs; outbound.go and inbound.go drive one leg each;
// media.go moves audio between a leg's RTP and the media hub (decoding and
// encoding happen in the hub's shared transcoders); dtmf.go is the RFC 4733
// payload. The SIP stack itself (signalling, SDP, RTP sockets) is behind
// the small stack/channel/offer interfaces of stack.go; diago.go implements
// them on github.com/emiago/diago, and nothing else imports diago.
//
// Ownership: each leg's goroutine owns its SIP dialog and media; the
// Bridge's mutex guards only the registry of live legs. call.Service tells
// a leg what the user side does through Leg.Event, which only queues.
package sipbridge
