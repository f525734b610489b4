package app

import (
	"context"
	"fmt"
	"net/http"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/web"
)

// registerContacts loads the users' contact lists into presence and
// serves /api/v1/contacts; nothing without a store (everyone sees
// everyone, as before contacts).
func registerContacts(mux *http.ServeMux, db *store.DB, calls *call.Service, auth *account.Auth, guard account.Guard) error {
	if db == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	lists, err := db.AllContacts(ctx)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	for owner, list := range lists {
		calls.SetContacts(owner, list, true)
	}
	(&web.Contacts{Auth: auth, Guard: guard, Store: db, Presence: calls}).Register(mux)
	return nil
}
