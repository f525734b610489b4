// Package sipbridge connects flashvox calls to SIP: web users dial phone
// numbers through a trunk, numbers called from a trunk ring web users, and
// the built-in echo extension answers and plays back what it hears.
//
// Layers, top down: Bridge (bridge.go) implements call.Gateway and owns
// the calls' SIP legs; outbound.go and inbound.go drive one leg each;
// media.go moves audio between a leg's RTP and the media hub (decoding and
// encoding happen in the hub's shared transcoders); dtmf.go is the RFC 4733
// payload. access.go decides who may do what before anything is
// allocated: a trunk is recognised by its source address and may ring the
// inbound numbers; every other request needs a digest login (digest.go,
// nonce.go: RFC 7616, HA1 from Credentials, guessing slowed by a
// throttle.Throttle); docs/SECURITY.md "SIP" is the contract. codecs.go
// orders offers (wideband first, sip.codecs / a trunk's codecs) and picks
// the answer's one codec, the other leg's first for pass-through.
// registrar.go binds phones; regstore.go keeps the bindings in a file
// across restarts. The SIP stack itself (signalling, SDP, RTP sockets) is
// behind the small stack/channel/offer interfaces of stack.go; diago.go,
// diago_server.go, diago_register.go, diago_tls.go and diago_stream.go
// (TCP/TLS through internal/connlimit) implement them on
// github.com/emiago/diago, and nothing else imports diago; liblog.go is
// the filter sipgo's and diago's logs go through.
//
// Ownership: each leg's goroutine owns its SIP dialog and media; the
// Bridge's mutex guards only the registry of live legs. call.Service tells
// a leg what the user side does through Leg.Event, which only queues.
package sipbridge
