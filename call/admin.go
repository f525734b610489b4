package call

import (
	"sort"
	"time"
)

// ReasonAdmin ends a call that an operator hung up from the dashboard
// (EndByOperator); By names the operator.
const ReasonAdmin = "admin"

// CallInfo is one call as the operator's dashboard lists it.
type CallInfo struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	// State is "ringing" or "active".
	State string `json:"state"`
	// Mode carries the media once answered (ModeRelay, ModeP2P).
	Mode     string `json:"mode,omitempty"`
	FellBack bool   `json:"fellBack,omitempty"`
	// FromKind and ToKind are the parties' transports (rtmp, rtmpt,
	// rtmfp, webrtc, http, sip), as the call's record will name them.
	FromKind string    `json:"fromKind,omitempty"`
	ToKind   string    `json:"toKind,omitempty"`
	Started  time.Time `json:"started"`
	Answered time.Time `json:"answered,omitzero"`
	// Streams are the hub keys the caller ([0]) and the callee ([1])
	// publish once answered; secret to everyone but the parties and the
	// operator.
	Streams [2]string `json:"-"`
}

// Calls lists every ringing and active call, oldest first.
func (s *Service) Calls() []CallInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallInfo, 0, len(s.calls))
	for _, c := range s.calls {
		from, to := c.transports()
		ci := CallInfo{ID: c.ID, From: c.From, To: c.To, State: "ringing", Mode: c.mode, FellBack: c.fellBack,
			FromKind: from, ToKind: to, Started: c.cdr.started, Answered: c.cdr.answered}
		if c.state == stateActive {
			ci.State = "active"
		}
		if c.names[0] != "" {
			ci.Streams = [2]string{s.opts.StreamPrefix + c.names[0], s.opts.StreamPrefix + c.names[1]}
		}
		if c.isExternal(c.From) && ci.FromKind == "" {
			ci.FromKind = KindSIP
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Started.Before(out[j].Started) || (out[i].Started.Equal(out[j].Started) && out[i].ID < out[j].ID)
	})
	return out
}

// EndByOperator ends call id for an operator who is not a party: an
// established call ends with bye, a ringing one with cancelled, both with
// reason ReasonAdmin and By operator. ErrNoCall: no such call (ended).
func (s *Service) EndByOperator(id, operator string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if c == nil {
		return ErrNoCall
	}
	typ := EvCanceled
	if c.state == stateActive {
		typ = EvBye
	}
	s.endLocked(c, typ, ReasonAdmin, operator)
	return nil
}
