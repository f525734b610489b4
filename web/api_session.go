package web

import (
	"net/http"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
)

// tokenKey carries the request's verified bearer token in its context.
type tokenKey struct{}

// requestToken is the bearer token authed verified for r.
func requestToken(r *http.Request) string {
	tok, _ := r.Context().Value(tokenKey{}).(string)
	return tok
}

// session answers GET /api/v1/session: whose the bearer token is, the
// head of the user's event log here (as a login's cursor), the other
// live cluster nodes' page URLs (pages) and those of the nodes heard from
// lately, lost ones included (known). The page asks it after its sign-in
// and every few seconds, to know where to go if this node stops
// answering, and on the node it moved to, to check the session it
// carried over and that it came from a node of the cluster before it
// rejoins its room (web/static/app.js; docs/CLUSTER.md "What happens when
// a node dies"). The lists go to signed-in users only: /api/v1/cluster,
// which an operator may keep private, is not needed by the page.
func (a *API) session(w http.ResponseWriter, _ *http.Request, d *call.Device) {
	pages, known := []string{}, []string{}
	if a.Pages != nil {
		pages = append(pages, a.Pages()...)
	}
	if a.KnownPages != nil {
		known = append(known, a.KnownPages()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": d.User, "cursor": a.Calls.Log(d.User).Head(), "pages": pages, "known": known})
}

// logout revokes the request's own token (DELETE /api/v1/session): every
// later request with it gets 401 token_revoked, and the sessions it opened
// end at once (long-polls answer 401, RTMP/RTMFP phone connections get
// onSessionEnd and are closed).
func (a *API) logout(w http.ResponseWriter, r *http.Request, d *call.Device) {
	if err := a.Auth.Revoke(requestToken(r)); err != nil {
		writeError(w, err)
		return
	}
	a.logger().Info("logged out", "user", d.User, "remote", r.RemoteAddr)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// logUser is a login's user name as it may be logged: a name that is not
// a valid user name may be a password typed in the wrong field.
func logUser(name string) string {
	if !account.ValidUserName(name) {
		return "(invalid)"
	}
	return name
}
