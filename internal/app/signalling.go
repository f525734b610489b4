package app

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/throttle"
)

// startSignalling builds the call service, the rooms and the SIP bridge
// and exports their metrics. They need each other: users' calls to
// numbers and rooms' invitations of numbers go out through the bridge,
// and the bridge rings users and joins rooms. The bridge builds the other
// two from its Peers hook, handing itself as their gateway and dialer,
// before it listens: each is complete when it is first used. remote, when
// not nil, is the cluster's gateway to users on other nodes, tried after
// the bridge.
func startSignalling(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, hub *media.Hub, tc *transcode.Service, auth *account.Auth, guard *throttle.Throttle, st signallingStore, sipCerts *tlscert.Reloader, remote call.Gateway) (*sipbridge.Bridge, *call.Service, *conference.Service, error) {
	var calls *call.Service
	var confs *conference.Service
	peers := func(gw *sipbridge.Bridge) sipbridge.Peers {
		var gateway call.Gateway = gw
		if remote != nil {
			gateway = gateways{gw, remote}
		}
		calls = call.NewService(call.Options{
			RingTimeout:         cfg.Call.RingTimeout,
			EventsPerUser:       cfg.Call.EventsPerUser,
			HTTPPresenceTimeout: cfg.Call.HTTPPresenceTimeout,
			NoP2P:               cfg.Call.NoP2P,
			DisableP2P:          !cfg.Call.P2P,
			Gateway:             gateway,
			Logger:              logger.With("component", "call"),
			Records:             st.records,
		}, st.names...)
		confs = newConferences(cfg.Conference, hub, calls, sipDialer(gw), guard, st.members, logger)
		return sipbridge.Peers{Calls: calls, Conferences: sipConferences(confs), Remote: sipRemote(remote)}
	}
	sip, err := startSIP(cfg, logger, reg, hub, tc, peers, auth, guard, st, sipCerts)
	if err != nil {
		if confs != nil {
			confs.Close()
			calls.Close()
		}
		return nil, nil, nil, err
	}
	registerCallMetrics(reg, calls.Stats())
	registerConferenceMetrics(reg, &confs.Stats)
	return sip, calls, confs, nil
}

// signallingStore is what signalling keeps in the store (store.go): the
// users' names, the calls' records and the SIP registrations.
type signallingStore struct {
	names         []string
	records       call.Recorder
	members       conference.Recorder   // membership records; nil: none
	legs          sipbridge.LegRecorder // SIP leg records; nil: none
	registrations sipbridge.RegistrationStore
}
