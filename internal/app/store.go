package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/web"
)

// storeTimeout bounds one store operation on the serving path (a login, a
// token check, a registration change).
const storeTimeout = 5 * time.Second

// openStore opens the store of data_dir or database.url, brings its schema
// up to date and, on the first start (no users yet), seeds it with the
// users: list. Without either key it returns nil: nothing is kept.
func openStore(cfg *config.Config, logger *slog.Logger) (*store.DB, error) {
	url := cfg.StoreURL()
	if url == "" {
		return nil, nil
	}
	key := "database.url"
	if cfg.Database.URL == "" {
		key = "data_dir"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	done, err := db.Migrate(ctx, 0)
	for _, m := range done {
		logger.Info("store: schema migrated", "version", m.Version, "name", m.Name)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if err := seed(ctx, db, cfg, logger); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	logger.Info("store open", "engine", db.Engine(), "url", store.Redact(url), "schema", store.Latest())
	return db, nil
}

// seed copies the users: list into an empty store (plaintext passwords
// hashed, their HA1s computed for sip.realm); a store with users is the
// truth and the list is ignored.
func seed(ctx context.Context, db *store.DB, cfg *config.Config, logger *slog.Logger) error {
	if us, err := db.Users(ctx); err != nil || len(us) > 0 {
		if err == nil {
			logger.Info("store: accounts from the store; users: in the configuration is only a seed for an empty store", "users", len(us))
		}
		return err
	}
	var users []store.User
	for _, u := range cfg.Users {
		su := store.User{Name: u.Name, PasswordHash: u.PasswordHash, HA1: u.SIPHA1, HA1SHA256: u.SIPHA1SHA256, Role: store.Role(u.Role), Enabled: !u.Disabled}
		if u.Password != "" {
			su.PasswordHash = passhash.New(u.Password, passhash.Default).String()
			su.HA1, _ = passhash.HA1(passhash.MD5, u.Name, cfg.SIP.Realm, u.Password)
			su.HA1SHA256, _ = passhash.HA1(passhash.SHA256, u.Name, cfg.SIP.Realm, u.Password)
		}
		users = append(users, su)
	}
	ok, err := db.Seed(ctx, users)
	if ok {
		logger.Info("store: seeded with the users: list (first start)", "users", len(users))
	}
	return err
}

// storeAccounts adapts the store to account.Directory and
// account.RevocationLog.
type storeAccounts struct{ db *store.DB }

// Account looks a user up, for every password, token and SIP digest check.
func (s storeAccounts) Account(name string) (account.Account, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	u, err := s.db.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return account.Account{}, fmt.Errorf("%w: %w", account.ErrNoAccount, err)
	}
	if err != nil {
		return account.Account{}, err
	}
	return account.Account{Name: u.Name, PasswordHash: u.PasswordHash, HA1: u.HA1, HA1SHA256: u.HA1SHA256, Disabled: !u.Enabled}, nil
}

// Revoke keeps a revoked token until it expires.
func (s storeAccounts) Revoke(r account.Revocation) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return s.db.Revoke(ctx, store.Revoked{ID: r.ID, User: r.User, Expires: r.Expires})
}

// storeAuth is what the Auth takes from the store: the accounts, the
// token secret (auth.secret, when set, wins: a site backend mints with
// it) and the revoked tokens that have not expired.
func storeAuth(db *store.DB, cfg *config.Config, o *account.AuthOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if cfg.Auth.Secret == "" {
		secret, err := db.Secret(ctx)
		if err != nil {
			return err
		}
		o.Secret = secret
	}
	revoked, err := db.RevokedTokens(ctx)
	if err != nil {
		return err
	}
	for _, r := range revoked {
		o.Revoked = append(o.Revoked, account.Revocation{User: r.User, ID: r.ID, Expires: r.Expires})
	}
	acc := storeAccounts{db: db}
	o.Directory, o.Revocations, o.Accounts, o.Users = acc, acc, nil, nil
	return nil
}

// userNames are the accounts' names: the store's, else the users: list.
func userNames(db *store.DB, cfg *config.Config) ([]string, error) {
	var names []string
	if db == nil {
		for _, u := range cfg.Users {
			names = append(names, u.Name)
		}
		return names, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	us, err := db.Users(ctx)
	for _, u := range us {
		names = append(names, u.Name)
	}
	return names, err
}

// closeStore closes db (if any) and returns err, for the failure paths.
func closeStore(db *store.DB, err error) error {
	if db != nil {
		db.Close()
	}
	return err
}

// storeRegistrations keeps the SIP registrar's bindings in the store.
type storeRegistrations struct{ db *store.DB }

// sipRegistrations is the store as the registrar's RegistrationStore;
// nil without a store (sip.registrations_file, if set, is used then).
func sipRegistrations(db *store.DB) sipbridge.RegistrationStore {
	if db == nil {
		return nil
	}
	return storeRegistrations{db: db}
}

// SaveRegistrations replaces the stored bindings.
func (s storeRegistrations) SaveRegistrations(rs []sipbridge.Registration) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	out := make([]store.Registration, 0, len(rs))
	for _, r := range rs {
		out = append(out, store.Registration(r))
	}
	return s.db.SaveRegistrations(ctx, out)
}

// LoadRegistrations returns the stored bindings that have not expired.
func (s storeRegistrations) LoadRegistrations() ([]sipbridge.Registration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	rs, err := s.db.Registrations(ctx)
	out := make([]sipbridge.Registration, 0, len(rs))
	for _, r := range rs {
		out = append(out, sipbridge.Registration(r))
	}
	return out, err
}

// Role is a user's role in the store ("" for a user it does not know).
func (s storeAccounts) Role(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	u, err := s.db.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(u.Role), err
}

// registerAdmin adds the admin API (/api/v1/admin/cdr and /users, admins
// only) to mux; none without a store.
func registerAdmin(mux *http.ServeMux, db *store.DB, auth *account.Auth, guard account.Guard, realm string, live *web.Live, log *slog.Logger) {
	if db == nil {
		return
	}
	(&web.Admin{Auth: auth, Guard: guard, Roles: storeAccounts{db: db}, CDRs: db, Users: db, Realm: realm, Live: live, Logger: log}).Register(mux)
}

// sessionRecheck is how often the sessions of accounts disabled by another
// process (`flashvox user disable`, another node) are looked for.
const sessionRecheck = 5 * time.Second

// startSessionRecheck ends, every sessionRecheck, the open sessions of
// accounts the store says are disabled; stop ends it. Nothing without a
// store.
func startSessionRecheck(auth *account.Auth, db *store.DB, log *slog.Logger) (stop func()) {
	if db == nil {
		return func() {}
	}
	done := make(chan struct{})
	t := time.NewTicker(sessionRecheck)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if n := auth.RecheckSessions(); n > 0 {
					log.Info("sessions of disabled accounts ended", "users", n)
				}
			}
		}
	}()
	return func() { close(done) }
}
