package app

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/throttle"
)

// newAuth builds the accounts and tokens: from the store when there is
// one (storeAuth), else the config's users: hashed ones as they are,
// plaintext ones (loopback only, which config enforces) with a warning.
func newAuth(cfg *config.Config, logger *slog.Logger, db *store.DB) (*account.Auth, error) {
	accts := make([]account.Account, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		accts = append(accts, account.Account{Name: u.Name, Password: u.Password, PasswordHash: u.PasswordHash,
			HA1: u.SIPHA1, HA1SHA256: u.SIPHA1SHA256})
	}
	o := account.AuthOptions{Accounts: accts, Realm: cfg.SIP.Realm, Secret: []byte(cfg.Auth.Secret), TTL: cfg.Auth.TokenTTL}
	if db != nil {
		if err := storeAuth(db, cfg, &o); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	} else if names := cfg.PlaintextUsers(); len(names) > 0 {
		logger.Warn("plaintext passwords in users: allowed only while every listener is on loopback; replace them with `flashvox passwd` output (password_hash, sip_ha1, sip_ha1_sha256)", "users", names)
	}
	return account.NewAuth(o), nil
}

// registerAuthMetrics exports the guard's counters and the sessions
// followed to their token's end.
func registerAuthMetrics(reg *prometheus.Registry, guard *throttle.Throttle, auth *account.Auth) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "auth", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("failures_total", "Failed password and token checks (HTTP login and API, RTMP/RTMFP connects).", func() float64 { return float64(guard.Stats.Failures.Load()) }),
		counter("throttled_total", "Credential checks refused unchecked because the address or account is backing off.", func() float64 { return float64(guard.Stats.Refused.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Subsystem: "auth", Name: "sessions_watched",
			Help: "Connections and long-polls that end when their token expires or is revoked."}, func() float64 { return float64(auth.Watching()) }),
	)
}
