package app

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/throttle"
)

// newAuth builds the accounts and tokens: from the store when there is
// one (storeAuth), else the config's users: hashed ones as they are,
// plaintext ones (loopback only, which config enforces) with a warning.
// Without a store the users: list is the accounts, in a configDirectory a
// SIGHUP replaces (reload.go); dir is nil with a store.
func newAuth(cfg *config.Config, logger *slog.Logger, db *store.DB) (auth *account.Auth, dir *configDirectory, err error) {
	o := account.AuthOptions{Realm: cfg.SIP.Realm, Secret: []byte(cfg.Auth.Secret), TTL: cfg.Auth.TokenTTL}
	if db != nil {
		if err := storeAuth(db, cfg, &o); err != nil {
			return nil, nil, fmt.Errorf("store: %w", err)
		}
		return account.NewAuth(o), nil, nil
	}
	if names := cfg.PlaintextUsers(); len(names) > 0 {
		logger.Warn("plaintext passwords in users: allowed only while every listener is on loopback; replace them with `flashvox passwd` output (password_hash, sip_ha1, sip_ha1_sha256)", "users", names)
	}
	dir = &configDirectory{}
	dir.set(cfg.Users)
	o.Directory = dir
	return account.NewAuth(o), dir, nil
}

// configDirectory is the users: list as the accounts (no store); set
// replaces it at once for every later check.
type configDirectory struct {
	m atomic.Pointer[map[string]account.Account]
}

func (d *configDirectory) set(users []config.User) {
	m := make(map[string]account.Account, len(users))
	for _, u := range users {
		m[u.Name] = account.Account{Name: u.Name, Password: u.Password, PasswordHash: u.PasswordHash,
			HA1: u.SIPHA1, HA1SHA256: u.SIPHA1SHA256, Disabled: u.Disabled}
	}
	d.m.Store(&m)
}

// Account looks a user up (account.Directory).
func (d *configDirectory) Account(name string) (account.Account, error) {
	if a, ok := (*d.m.Load())[name]; ok {
		return a, nil
	}
	return account.Account{}, account.ErrNoAccount
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
