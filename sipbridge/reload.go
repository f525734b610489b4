package sipbridge

import (
	"context"
	"reflect"
	"sync"
)

// routing is what a reload replaces: the trunks, the dial plan and the
// inbound numbers. Readers take the current one (Bridge.routes) once per
// decision; a call keeps the Trunk it was routed to.
type routing struct {
	trunks   map[string]Trunk
	list     []Trunk
	dialPlan []Rule
	inbound  []Inbound
}

func newRouting(trunks []Trunk, plan []Rule, inbound []Inbound) *routing {
	r := &routing{trunks: map[string]Trunk{}, list: trunks, dialPlan: plan, inbound: inbound}
	for _, t := range trunks {
		r.trunks[t.Name] = t
	}
	return r
}

// routes is the routing in force now.
func (b *Bridge) routes() *routing { return b.routing.Load() }

// trunkReg is one trunk's registration goroutine.
type trunkReg struct {
	trunk  Trunk
	cancel context.CancelFunc
	done   chan struct{}
}

// trunkRegs are the running trunk registrations, by trunk name.
type trunkRegs struct {
	mu sync.Mutex // one reload at a time; guards m
	m  map[string]*trunkReg
}

// startTrunkLocked registers at t until the bridge closes or a reload stops it;
// regs.mu held.
func (b *Bridge) startTrunkLocked(t Trunk) {
	ctx, cancel := context.WithCancel(b.ctx)
	r := &trunkReg{trunk: t, cancel: cancel, done: make(chan struct{})}
	if b.treg.m == nil {
		b.treg.m = map[string]*trunkReg{}
	}
	b.treg.m[t.Name] = r
	b.wg.Go(func() {
		defer close(r.done)
		b.runTrunkRegistration(ctx, t)
	})
}

// Reloaded says what Reload changed, for the log.
type Reloaded struct {
	// TrunksAdded, TrunksChanged and TrunksRemoved name trunks;
	// Reregistered those whose registration restarted.
	TrunksAdded, TrunksChanged, TrunksRemoved, Reregistered []string
	DialPlanChanged, InboundChanged                         bool
}

// Reload replaces the trunks, the dial plan and the inbound numbers
// without touching calls in progress (each keeps the trunk it was routed
// to). A removed or changed trunk's registration is ended (unregistered);
// a new or changed one with Register is registered. Calls after Reload
// route with the new plan.
func (b *Bridge) Reload(trunks []Trunk, plan []Rule, inbound []Inbound) Reloaded {
	b.treg.mu.Lock()
	defer b.treg.mu.Unlock()
	old := b.routes()
	next := newRouting(trunks, plan, inbound)
	var out Reloaded
	out.DialPlanChanged = !reflect.DeepEqual(old.dialPlan, next.dialPlan)
	out.InboundChanged = !reflect.DeepEqual(old.inbound, next.inbound)
	for name := range old.trunks {
		if _, ok := next.trunks[name]; !ok {
			out.TrunksRemoved = append(out.TrunksRemoved, name)
		}
	}
	for _, t := range trunks {
		prev, ok := old.trunks[t.Name]
		switch {
		case !ok:
			out.TrunksAdded = append(out.TrunksAdded, t.Name)
		case !reflect.DeepEqual(prev, t):
			out.TrunksChanged = append(out.TrunksChanged, t.Name)
		}
	}
	b.routing.Store(next) // new calls route with the new plan from here
	for name, r := range b.treg.m {
		if t, ok := next.trunks[name]; ok && reflect.DeepEqual(t, r.trunk) {
			continue
		}
		r.cancel() // unregisters before its goroutine ends
		<-r.done
		delete(b.treg.m, name)
	}
	for _, t := range trunks {
		if _, running := b.treg.m[t.Name]; t.Register && !running {
			b.startTrunkLocked(t)
			out.Reregistered = append(out.Reregistered, t.Name)
		}
	}
	return out
}
