package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/store"
)

// Loader reads the configuration again (the file and environment the
// server started with); nil: a SIGHUP reloads the certificates only.
type Loader func() (*config.Config, error)

// reloader applies a SIGHUP: the TLS pairs are read again, then the
// configuration, whose users, dial plan, inbound numbers and trunks are
// applied without touching calls in progress. Other keys need a restart.
type reloader struct {
	srv  *services
	load Loader
	cfg  *config.Config // the configuration in force
	log  *slog.Logger
}

// reloadOnHUP runs r on every SIGHUP until ctx ends.
func (s *services) reloadOnHUP(ctx context.Context, cfg *config.Config, load Loader, log *slog.Logger) {
	r := &reloader{srv: s, load: load, cfg: cfg, log: log.With("component", "reload")}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.reload()
			}
		}
	}()
}

func (r *reloader) reload() {
	r.log.Info("SIGHUP: reloading")
	r.certs()
	if r.load == nil {
		return
	}
	next, err := r.load()
	if err != nil {
		r.log.Error("configuration not reloaded, keeping the one in force", "err", err)
		return
	}
	if err := r.sip(next); err != nil {
		r.log.Error("sip routing not reloaded, keeping the one in force", "err", err)
		next.SIP = r.cfg.SIP
	}
	r.users(next)
	r.cfg = next
	r.log.Info("reload done")
}

// certs reads the TLS pairs (RTMPS/RTMPTS, HTTPS, SIP/TLS, cluster) again; a bad pair is
// logged and the old one kept. New connections get the new certificate.
func (r *reloader) certs() {
	for key, c := range map[string]*tlscert.Reloader{"rtmp.tls_cert": r.srv.certs, "http.tls_cert": r.srv.httpCerts, "sip.tls_cert": r.srv.sipCerts} {
		if c == nil {
			continue
		}
		if err := c.Reload(); err != nil {
			r.log.Error("tls certificate reload failed, keeping the old one", "key", key, "err", err)
		} else {
			r.log.Info("tls certificate reloaded", "key", key)
		}
	}
	if r.srv.cluster != nil && r.srv.cluster.TLS() {
		if err := r.srv.cluster.ReloadTLS(); err != nil {
			r.log.Error("tls certificate reload failed, keeping the old one", "key", "cluster.tls_cert", "err", err)
		} else {
			r.log.Info("tls certificate reloaded", "key", "cluster.tls_cert")
		}
	}
}

// sip applies next's trunks, dial plan and inbound numbers.
func (r *reloader) sip(next *config.Config) error {
	trunks, plan, inbound, err := sipRouting(next.SIP)
	if err != nil {
		return err
	}
	got := r.srv.sip.Reload(trunks, plan, inbound)
	r.log.Info("sip routing reloaded", "trunks_added", got.TrunksAdded, "trunks_changed", got.TrunksChanged,
		"trunks_removed", got.TrunksRemoved, "reregistered", got.Reregistered, "dialplan_changed", got.DialPlanChanged,
		"inbound_changed", got.InboundChanged)
	return nil
}

// userChange is what a reload does to one user of the users: list.
type userChange struct {
	name                      string
	added, password, disabled bool
	enabled                   bool
}

// diffUsers compares two users: lists: users new in next, and users whose
// password (or hash) or disabled flag changed. A user removed from the
// list is disabled without a store (it can no longer sign in); with a
// store, the list is a seed: removal changes nothing there.
func diffUsers(old, next []config.User) []userChange {
	prev := map[string]config.User{}
	for _, u := range old {
		prev[u.Name] = u
	}
	var out []userChange
	for _, u := range next {
		p, ok := prev[u.Name]
		delete(prev, u.Name)
		c := userChange{name: u.Name, added: !ok}
		if ok {
			c.password = p.Password != u.Password || p.PasswordHash != u.PasswordHash || p.SIPHA1 != u.SIPHA1 || p.SIPHA1SHA256 != u.SIPHA1SHA256
			c.disabled, c.enabled = !p.Disabled && u.Disabled, p.Disabled && !u.Disabled
		} else {
			c.disabled = u.Disabled
		}
		if c.added || c.password || c.disabled || c.enabled {
			out = append(out, c)
		}
	}
	for name := range prev {
		out = append(out, userChange{name: name, disabled: true})
	}
	return out
}

// users applies the users: list's changes: to the store (new accounts
// added, changed passwords and disabled flags set) or, without one, to the
// accounts in memory. Disabled users' open sessions end (without a
// store, removed users' too).
func (r *reloader) users(next *config.Config) {
	changes := diffUsers(r.cfg.Users, next.Users)
	if r.srv.users != nil {
		r.srv.users.set(next.Users)
	}
	byName := map[string]config.User{}
	for _, u := range next.Users {
		byName[u.Name] = u
	}
	for _, c := range changes {
		if r.srv.store != nil {
			if err := r.storeUser(c, byName[c.name], next.SIP.Realm); err != nil {
				r.log.Error("user not reloaded", "user", c.name, "err", err)
				continue
			}
		}
		if c.disabled {
			r.srv.auth.EndSessions(c.name)
		}
		r.log.Info("user reloaded", "user", c.name, "added", c.added, "password_changed", c.password, "disabled", c.disabled, "enabled", c.enabled)
	}
}

// storeUser applies one change to the store.
func (r *reloader) storeUser(c userChange, u config.User, realm string) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	db := r.srv.store
	if u.Name == "" { // removed from the list: the store keeps the account
		return nil
	}
	su := store.User{Name: u.Name, PasswordHash: u.PasswordHash, HA1: u.SIPHA1, HA1SHA256: u.SIPHA1SHA256, Role: store.Role(u.Role), Enabled: !u.Disabled}
	if u.Password != "" {
		su.PasswordHash = passhash.New(u.Password, passhash.Default).String()
		su.HA1, _ = passhash.HA1(passhash.MD5, u.Name, realm, u.Password)
		su.HA1SHA256, _ = passhash.HA1(passhash.SHA256, u.Name, realm, u.Password)
	}
	if su.Role == "" {
		su.Role = store.RoleUser
	}
	if c.added {
		if _, err := db.User(ctx, u.Name); err == nil {
			return fmt.Errorf("already in the store; the store's account is kept")
		}
		return db.AddUser(ctx, su)
	}
	if c.password {
		if err := db.SetPassword(ctx, u.Name, su.PasswordHash, su.HA1, su.HA1SHA256); err != nil {
			return err
		}
	}
	if c.disabled || c.enabled {
		return db.SetEnabled(ctx, u.Name, su.Enabled)
	}
	return nil
}
