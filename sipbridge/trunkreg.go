package sipbridge

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Trunk registration timing.
const (
	// defaultTrunkExpires is the lifetime asked of a trunk's registrar.
	defaultTrunkExpires = time.Hour
	// trunkRetry is the pause after a failed REGISTER.
	trunkRetry = 30 * time.Second
	// unregisterTimeout bounds the REGISTER with Expires 0 on Close.
	unregisterTimeout = 3 * time.Second
)

// refreshAfter is when to renew a binding granted for exp: half-way for
// short lifetimes, 30 s before the end for long ones (never later than
// the end, never sooner than 500 ms).
func refreshAfter(exp time.Duration) time.Duration {
	return max(exp/2, exp-30*time.Second, 500*time.Millisecond)
}

// runTrunkRegistration keeps our binding at trunk t alive until ctx ends
// (the bridge closes, a reload drops or changes t), then removes it. It owns the binding; Stats.TrunkRegistered
// counts trunks whose binding is current.
func (b *Bridge) runTrunkRegistration(ctx context.Context, t Trunk) {
	log := b.log.With("trunk", t.Name, "registrar", t.Address)
	rc, err := b.stack.Registration(registerReq{HostPort: t.Address, Transport: t.Transport, Username: t.Username, Password: t.Password})
	if err != nil {
		log.Error("trunk registration not possible", "err", err)
		return
	}
	asked := t.RegisterExpires
	if asked <= 0 {
		asked = defaultTrunkExpires
	}
	registered := false
	defer func() {
		if !registered {
			return
		}
		b.Stats.TrunkRegistered.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
		defer cancel()
		if _, err := rc.Register(ctx, 0); err != nil {
			log.Warn("trunk unregister failed", "err", err)
			return
		}
		log.Info("trunk unregistered")
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		got, err := rc.Register(rctx, asked)
		cancel()
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			b.trunkStates.set(t.Name, false, err, b.opts.Now())
			b.logRegisterFailure(log, err, registered)
			if registered {
				registered = false
				b.Stats.TrunkRegistered.Add(-1)
			}
			timer.Reset(trunkRetry)
			continue
		}
		if !registered {
			registered = true
			b.Stats.TrunkRegistered.Add(1)
			log.Info("trunk registered", "expires", got)
		} else {
			log.Debug("trunk registration refreshed", "expires", got)
		}
		b.Stats.TrunkRegisters.Add(1)
		b.trunkStates.set(t.Name, true, nil, b.opts.Now())
		if got <= 0 {
			got = asked
		}
		timer.Reset(refreshAfter(got))
	}
}

// logRegisterFailure warns once per outage, then logs at debug.
func (b *Bridge) logRegisterFailure(log *slog.Logger, err error, wasRegistered bool) {
	if wasRegistered {
		log.Warn("trunk registration lost", "err", err, "retry", trunkRetry)
		return
	}
	log.Warn("trunk registration failed", "err", err, "retry", trunkRetry)
}
