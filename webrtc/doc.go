// Package webrtc is flashvox's browser edge: WHIP (RFC 9725) and WHEP
// sessions on pion/webrtc, audio only, Opus. One PeerConnection per
// session; the browser's Opus is published to the hub as codec.Opus frames
// (WHIP), and a hub stream is played to the browser as Opus 48 kHz through
// the shared transcoder (WHEP), so RTMP publishers in Nellymoser or Speex
// are heard in a browser and a browser is heard by RTMP players.
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
