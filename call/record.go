package call

import "sort"

// State is a call as its parties see it in the HTTP API (GET
// /api/v1/calls): who, how far, and which mode carries the media.
type State struct {
	Call  string `json:"call"`
	From  string `json:"from"`
	To    string `json:"to"`
	State string `json:"state"` // ringing or active
	// Mode is p2p or relay once answered ("" while ringing): the mode
	// carrying the media now.
	Mode string `json:"mode,omitempty"`
	// FellBack: the call was answered p2p and went to relay because a
	// party could not reach the other directly (p2pFailed).
	FellBack bool `json:"fellBack,omitempty"`
}

// Call states as State.State shows them.
const (
	StateRinging = "ringing"
	StateActive  = "active"
)

func (c *Call) stateLocked() State {
	st := StateRinging
	if c.state == stateActive {
		st = StateActive
	}
	return State{Call: c.ID, From: c.From, To: c.To, State: st, Mode: c.mode, FellBack: c.fellBack}
}

// CallState returns call id as d's user sees it; ErrNoCall for an
// unknown or ended call, ErrNotParty when d's user is not in it.
func (s *Service) CallState(d *Device, id string) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.partyCall(d, id)
	if err != nil {
		return State{}, err
	}
	return c.stateLocked(), nil
}

// CallStates returns the ringing and active calls of user, oldest first.
func (s *Service) CallStates(user string) []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[user]
	if u == nil {
		return []State{}
	}
	calls := make([]*Call, 0, len(u.calls))
	for _, c := range u.calls {
		calls = append(calls, c)
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].seq < calls[j].seq })
	out := make([]State, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.stateLocked())
	}
	return out
}
