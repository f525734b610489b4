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
