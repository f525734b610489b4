// Package webrtc is flashvox's browser edge: WHIP (RFC 9725) and WHEP
// sessions, audio only, one codec per session: Opus, PCMU, PCMA or G.722,
// the first of Options.Codecs the offer has. Two engines carry the media:
// the lite one (the default, lite.go) answers ICE-lite and puts every
// session on the media plane's one UDP port (package plane); the pion one
// makes a pion PeerConnection per session. The browser's audio is published to the hub
// as frames of its codec (WHIP), and a hub stream is played to the browser
// in the session's codec (WHEP): as it is when it is in that codec, else
// through the hub's shared transcoder (whepsource.go), so RTMP publishers in
// Nellymoser or Speex are heard in a browser, a SIP leg's G.711 reaches a
// G.711 player without decoding, and a browser is heard by RTMP players.
// RFC 4733 digits travel both ways as media.KindDTMF frames (dtmf.go).
//
// The package knows no application policy: Options.Access (the session
// layer's live applications, adapted in internal/app) says which hub key a
// request may reach. Every body read is bounded, sessions are bounded in
// number (in total and per client address) and end on DELETE of their
// URL, on ICE failure, or when ICE does not connect in time.
//
// Opus needs libopus (cgo): a binary built without cgo answers 503 to
// every WHIP and WHEP request (ErrOpusUnavailable).
package webrtc
