package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/store"
)

// maxContactsBody bounds a PUT /api/v1/contacts body: store.MaxContacts
// names of 64 characters, quoted, with room to spare.
const maxContactsBody = 96 << 10

// Contacts serves /api/v1/contacts: the signed-in user's own watch list
// (docs/PROTOCOL.md "Contacts"), kept in the store and applied to
// presence at once. A token reaches its own user's list only.
type Contacts struct {
	Auth *account.Auth
	// Guard slows token guessing, as on every API route.
	Guard account.Guard
	Store ContactStore
	// Presence applies a list to presence events (package call's Service).
	Presence ContactPresence

	mu sync.Mutex // one change at a time: the store and presence agree
}

// ContactStore keeps the lists (package store).
type ContactStore interface {
	Contacts(ctx context.Context, owner string) ([]string, bool, error)
	SetContacts(ctx context.Context, owner string, list []string) error
	DeleteContacts(ctx context.Context, owner string) error
}

// ContactPresence applies user's list (set false: none).
type ContactPresence interface {
	SetContacts(user string, list []string, set bool)
}

// Register adds the routes to mux.
func (c *Contacts) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/contacts", c.signedIn(c.get))
	mux.HandleFunc("PUT /api/v1/contacts", c.signedIn(c.put))
	mux.HandleFunc("DELETE /api/v1/contacts", c.signedIn(c.delete))
}

// signedIn checks the bearer token and runs h for its user (no device is
// attached: editing a list does not make a user online).
func (c *Contacts) signedIn(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeError(w, &apiError{http.StatusUnauthorized, "no_token", "missing Authorization: Bearer TOKEN"})
			return
		}
		user, err := c.Auth.VerifyFrom(c.Guard, r.RemoteAddr, strings.TrimSpace(tok))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, user)
	}
}

type contactList struct {
	Contacts []string `json:"contacts"`
	// Set is false for a user who has no list (everyone, as before).
	Set bool `json:"set"`
}

var errStore = &apiError{http.StatusServiceUnavailable, "store_unavailable", "the store does not answer"}

func (c *Contacts) get(w http.ResponseWriter, r *http.Request, user string) {
	list, set, err := c.Store.Contacts(r.Context(), user)
	if err != nil {
		writeError(w, errStore)
		return
	}
	writeJSON(w, http.StatusOK, contactList{Contacts: append([]string{}, list...), Set: set})
}

// put replaces the list: {"contacts": ["bob", …]} (an empty list is a
// list: nobody sees you, you see nobody).
func (c *Contacts) put(w http.ResponseWriter, r *http.Request, user string) {
	var body struct {
		Contacts []string `json:"contacts"`
	}
	if err := decodeLimited(w, r, maxContactsBody, &body); err != nil {
		writeError(w, err)
		return
	}
	if body.Contacts == nil {
		writeError(w, badRequest(`body: want {"contacts": [names]}`))
		return
	}
	if len(body.Contacts) > store.MaxContacts {
		writeError(w, badRequest("contacts: at most %d, got %d", store.MaxContacts, len(body.Contacts)))
		return
	}
	for _, n := range body.Contacts {
		if !account.ValidUserName(n) {
			writeError(w, badRequest("contacts: %q is not a user name", n))
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Store.SetContacts(r.Context(), user, body.Contacts); err != nil {
		writeError(w, errStore)
		return
	}
	list, _, err := c.Store.Contacts(r.Context(), user)
	if err != nil {
		writeError(w, errStore)
		return
	}
	c.Presence.SetContacts(user, list, true)
	writeJSON(w, http.StatusOK, contactList{Contacts: append([]string{}, list...), Set: true})
}

// delete removes the list: back to none (everyone).
func (c *Contacts) delete(w http.ResponseWriter, r *http.Request, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Store.DeleteContacts(r.Context(), user); err != nil {
		writeError(w, errStore)
		return
	}
	c.Presence.SetContacts(user, nil, false)
	w.WriteHeader(http.StatusNoContent)
}

// decodeLimited reads a JSON object of at most limit bytes into v,
// refusing unknown fields and trailing data.
func decodeLimited(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return badRequest("body larger than %d bytes", limit)
		}
		return badRequest("body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("body: data after the JSON object")
	}
	return nil
}
