package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/flashvox/flashvox/call"
)

// Browser-to-browser signalling (docs/PROTOCOL.md, "Calls between two
// pages"): POST /api/v1/calls/{id}/signal passes a page's WebRTC offer,
// answer or ICE candidate to the other party as a "signal" event, and
// POST /api/v1/calls/{id}/media {"mode"} reports what carries the media.
// call.Service.Signal decides who may send (the parties of a p2p call
// between two pages) and bounds the rate.

// signalRequest is the body of POST /calls/{id}/signal.
type signalRequest struct {
	Type      string        `json:"type"`                // offer, answer or candidate
	SDP       string        `json:"sdp,omitempty"`       // offer, answer
	Candidate *iceCandidate `json:"candidate,omitempty"` // candidate (RTCIceCandidateInit)
}

// iceCandidate is the browser's RTCIceCandidateInit.
type iceCandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// maxCandidateBytes bounds one candidate line (RFC 8839 lines are short).
const maxCandidateBytes = 1024

// check refuses a malformed signal before it reaches the other party.
func (s *signalRequest) check() error {
	switch s.Type {
	case "offer", "answer":
		if !strings.HasPrefix(s.SDP, "v=0") || s.Candidate != nil {
			return badRequest(`a %s needs "sdp" (an SDP starting v=0) and no "candidate"`, s.Type)
		}
	case "candidate":
		c := s.Candidate
		if c == nil || s.SDP != "" || len(c.Candidate) > maxCandidateBytes ||
			(c.Candidate != "" && !strings.HasPrefix(c.Candidate, "candidate:")) ||
			(c.SDPMid != nil && len(*c.SDPMid) > 64) || (c.UsernameFragment != nil && len(*c.UsernameFragment) > 256) {
			return badRequest(`a candidate needs "candidate": {"candidate": "candidate:…" (≤ %d bytes), "sdpMid", "sdpMLineIndex"}`, maxCandidateBytes)
		}
	default:
		return badRequest(`signal "type" must be offer, answer or candidate, got %q`, s.Type)
	}
	return nil
}

func (a *API) signal(w http.ResponseWriter, r *http.Request, d *call.Device) {
	var req signalRequest
	if err := decodeBodyMax(r.Body, &req, call.MaxSignalBytes); err != nil {
		writeError(w, err)
		return
	}
	if err := req.check(); err != nil {
		writeError(w, err)
		return
	}
	// Re-encoded, so the other page gets exactly the checked fields.
	b, err := json.Marshal(req)
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	if err := a.Calls.Signal(d, id, string(b)); err != nil {
		writeError(w, err)
		return
	}
	if req.Type == "answer" { // the codec the pages chose, for the call's record (the server never sees it)
		if c := sdpAudioCodec(req.SDP); c != "" {
			_ = a.Calls.SetP2PCodec(d, id, c) // a name it refuses is left out of the record
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"call": id})
}

// media handles POST /calls/{id}/media: "relay" from a page whose direct
// connection did not come up switches the call to relay (both parties
// get a media event); "p2p" confirms a direct call (409 if the call is
// not, or no longer, p2p).
func (a *API) media(d *call.Device, id, mode string) error {
	switch mode {
	case call.ModeRelay:
		return a.Calls.P2PFailed(d, id)
	case call.ModeP2P:
		st, err := a.Calls.CallState(d, id)
		if err != nil {
			return err
		}
		if st.Mode != call.ModeP2P {
			return fmt.Errorf("%w: the call is %s", call.ErrState, st.Mode)
		}
		return nil
	}
	return badRequest(`"mode" must be p2p or relay, got %q`, mode)
}

// sdpAudioCodec is the first codec of sdp's first audio media line: the
// codec an answer chose (its rtpmap name, lower case; the static payload
// types 0, 8 and 9 without one), "" if there is none.
func sdpAudioCodec(sdp string) string {
	pt := ""
	for line := range strings.Lines(sdp) {
		line = strings.TrimRight(line, "\r\n")
		if pt == "" {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "m=audio" {
				pt = f[3]
			}
			continue
		}
		if strings.HasPrefix(line, "m=") {
			break // the first audio section ended
		}
		if rest, ok := strings.CutPrefix(line, "a=rtpmap:"+pt+" "); ok {
			name, _, _ := strings.Cut(rest, "/")
			return strings.ToLower(strings.TrimSpace(name))
		}
	}
	return map[string]string{"0": "pcmu", "8": "pcma", "9": "g722"}[pt]
}
