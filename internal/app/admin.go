package app

import (
	"context"
	"log/slog"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/web"
)

// newLive is the operator dashboard's view of the services (web.Live);
// the dashboard is served with the admin API, so only with a store. A nil
// service is left out (not a typed nil in the interface).
// The charts' samples are kept in the store as node's (a restart keeps
// them).
func newLive(db *store.DB, node string, calls *call.Service, hub *media.Hub, confs *conference.Service, sip *sipbridge.Bridge, log *slog.Logger) *web.Live {
	if db == nil {
		return nil
	}
	l := &web.Live{Calls: calls, Streams: hub, Store: db, Node: node, Logger: log}
	if confs != nil {
		l.Rooms = confs
	}
	if sip != nil {
		l.SIP = sipAdmin{b: sip}
	}
	return l
}

// serveLive samples the dashboard's view until ctx ends (Run's).
func (s *services) serveLive(ctx context.Context) {
	if s.live != nil {
		go func() { _ = s.live.Serve(ctx) }()
	}
}

// sipAdmin adapts the SIP bridge's state to the dashboard's.
type sipAdmin struct{ b *sipbridge.Bridge }

func (a sipAdmin) Trunks() []web.SIPTrunk {
	ts := a.b.Trunks()
	out := make([]web.SIPTrunk, 0, len(ts))
	for _, t := range ts {
		out = append(out, web.SIPTrunk{Name: t.Name, Address: t.Address, Register: t.Register, Registered: t.Registered, Since: t.Since, Error: t.Error})
	}
	return out
}

func (a sipAdmin) Phones() []web.SIPPhone {
	ps := a.b.Phones()
	out := make([]web.SIPPhone, 0, len(ps))
	for _, p := range ps {
		out = append(out, web.SIPPhone{User: p.User, Contact: p.URI, Transport: p.Transport, Source: p.Source, Expires: p.Expires})
	}
	return out
}
