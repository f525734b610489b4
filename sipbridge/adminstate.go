package sipbridge

import (
	"sort"
	"sync"
	"time"
)

// TrunkState is one trunk as the operator's dashboard shows it.
type TrunkState struct {
	Name, Address string
	// Register: flashvox registers at the trunk; Registered: the binding
	// is current. Since is when Registered last changed, Error the last
	// failure (cleared by a success).
	Register, Registered bool
	Since                time.Time
	Error                string
}

// trunkStates are the trunks' registration states, written by each
// trunk's registration goroutine (runTrunkRegistration).
type trunkStates struct {
	mu sync.Mutex
	m  map[string]TrunkState
}

// set records trunk's registration outcome: err nil means registered.
func (t *trunkStates) set(name string, registered bool, err error, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]TrunkState{}
	}
	st := t.m[name]
	if st.Registered != registered || st.Since.IsZero() {
		st.Since = now
	}
	st.Registered, st.Error = registered, ""
	if err != nil {
		st.Error = err.Error()
	}
	t.m[name] = st
}

// Trunks lists the configured trunks with their registration state, by name.
func (b *Bridge) Trunks() []TrunkState {
	trunks := b.routes().list
	b.trunkStates.mu.Lock()
	out := make([]TrunkState, 0, len(trunks))
	for _, t := range trunks {
		st := b.trunkStates.m[t.Name]
		st.Name, st.Address, st.Register = t.Name, t.Address, t.Register
		out = append(out, st)
	}
	b.trunkStates.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Phones lists the registered SIP phones' bindings, by user and contact.
func (b *Bridge) Phones() []Registration {
	b.regs.mu.Lock()
	out := make([]Registration, 0, len(b.regs.bindings))
	for _, bd := range b.regs.bindings {
		out = append(out, Registration{User: bd.user, URI: bd.uri, Transport: bd.transport, Source: bd.source, Expires: bd.expires.UTC()})
	}
	b.regs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].User+" "+out[i].URI < out[j].User+" "+out[j].URI })
	return out
}
