package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/internal/passhash"
	"github.com/flashvox/flashvox/store"
)

// UserStore is where the accounts are (package store).
type UserStore interface {
	Users(ctx context.Context) ([]store.User, error)
	AddUser(ctx context.Context, u store.User) error
	SetPassword(ctx context.Context, name, hash, ha1, ha1SHA256 string) error
	SetEnabled(ctx context.Context, name string, enabled bool) error
	SetRole(ctx context.Context, name string, r store.Role) error
}

// userJSON is an account as the admin API shows it: never a hash.
type userJSON struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Enabled bool   `json:"enabled"`
	SIP     bool   `json:"sip"` // has SIP digest HA1s
	Created string `json:"created"`
	Updated string `json:"updated"`
}

// listUsers answers every account (GET /api/v1/admin/users).
func (a *Admin) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Users.Users(r.Context())
	if err != nil {
		writeError(w, &apiError{http.StatusServiceUnavailable, "store_unavailable", "the store does not answer"})
		return
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, userJSON{Name: u.Name, Role: string(u.Role), Enabled: u.Enabled, SIP: u.HA1 != "" || u.HA1SHA256 != "",
			Created: store.FormatTime(u.Created), Updated: store.FormatTime(u.Updated)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// userChange is the body of POST (name, password required) and PATCH
// (each field optional).
type userChange struct {
	Name     string  `json:"name"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
	Enabled  *bool   `json:"enabled"`
}

// hash is the argon2id hash and SIP HA1s of password for user.
func (a *Admin) hash(user, password string) (string, string, string) {
	md5, _ := passhash.HA1(passhash.MD5, user, a.Realm, password)
	sha, _ := passhash.HA1(passhash.SHA256, user, a.Realm, password)
	return passhash.New(password, passhash.Default).String(), md5, sha
}

// addUser creates an account (POST /api/v1/admin/users {name, password,
// role}): 201, 409 exists.
func (a *Admin) addUser(w http.ResponseWriter, r *http.Request) {
	var c userChange
	if err := decodeBody(r.Body, &c); err != nil {
		writeError(w, err)
		return
	}
	if !account.ValidUserName(c.Name) {
		writeError(w, &apiError{http.StatusBadRequest, "bad_user", "name: 1..64 characters of A-Z a-z 0-9 . _ @ -"})
		return
	}
	if c.Password == nil || *c.Password == "" {
		writeError(w, badRequest("password: required"))
		return
	}
	u := store.User{Name: c.Name, Role: store.RoleUser, Enabled: c.Enabled == nil || *c.Enabled}
	if c.Role != nil {
		role, err := store.ParseRole(*c.Role)
		if err != nil {
			writeError(w, badRequest("%v", err))
			return
		}
		u.Role = role
	}
	u.PasswordHash, u.HA1, u.HA1SHA256 = a.hash(c.Name, *c.Password)
	if err := a.Users.AddUser(r.Context(), u); err != nil {
		writeError(w, userStoreError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": u.Name, "role": string(u.Role)})
}

// changeUser changes password, role or enabled of an account (PATCH
// /api/v1/admin/users/{name}): 204, 404 unknown.
func (a *Admin) changeUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var c userChange
	if err := decodeBody(r.Body, &c); err != nil {
		writeError(w, err)
		return
	}
	if c.Name != "" && c.Name != name {
		writeError(w, badRequest("name: cannot be changed"))
		return
	}
	var steps []func() error
	if c.Role != nil {
		role, err := store.ParseRole(*c.Role)
		if err != nil {
			writeError(w, badRequest("%v", err))
			return
		}
		steps = append(steps, func() error { return a.Users.SetRole(r.Context(), name, role) })
	}
	if c.Password != nil {
		if *c.Password == "" {
			writeError(w, badRequest("password: must not be empty"))
			return
		}
		h, md5, sha := a.hash(name, *c.Password)
		steps = append(steps, func() error { return a.Users.SetPassword(r.Context(), name, h, md5, sha) })
	}
	if c.Enabled != nil {
		steps = append(steps, func() error { return a.Users.SetEnabled(r.Context(), name, *c.Enabled) })
		if !*c.Enabled { // its open sessions end now, not at the next recheck
			steps = append(steps, func() error { a.Auth.EndSessions(name); return nil })
		}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			writeError(w, userStoreError(err))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// userStoreError maps the store's errors to answers.
func userStoreError(err error) *apiError {
	switch {
	case errors.Is(err, store.ErrExists):
		return &apiError{http.StatusConflict, "exists", "a user of that name exists"}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", "no such user"}
	}
	return &apiError{http.StatusServiceUnavailable, "store_unavailable", "the store does not answer"}
}
