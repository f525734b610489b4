package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
)

// API limits.
const (
	maxBodyBytes   = 4 << 10
	defaultMaxWait = 50 * time.Second // below the HTTP write timeout (web.go limits), so a long-poll always answers
	pageLimit      = 500              // events per answer; the client asks again from the cursor
)

// API is the signalling API under /api/v1: login, call commands, and the
// user's event log by polling and long-poll. Every route but login needs
// "Authorization: Bearer TOKEN".
type API struct {
	Calls *call.Service
	Auth  *account.Auth
	// Guard slows password and token guessing (package throttle); nil: not slowed.
	Guard   account.Guard
	Logger  *slog.Logger
	MaxWait time.Duration // longest long-poll (default 50s)
	// MaxPolls bounds one user's long-polls waiting at once (default 8:
	// a few tabs and devices); one more gets 429.
	MaxPolls int
	polls    pollCount
	// Conferences serves /api/v1/conferences (api_conference.go); nil: none.
	Conferences *conference.Service
	confMembers httpMembers
	// Pages, when set, lists the other cluster nodes' page URLs for
	// GET /api/v1/session (cluster.Cluster.PageURLs): where a page goes
	// when this node stops answering. nil: no cluster, none.
	Pages func() []string
	// KnownPages, when set, lists the page URLs of the other nodes this
	// node heard from lately, lost ones included, for GET /api/v1/session
	// (cluster.Cluster.KnownPages): a page that moved here rejoins its
	// room only when it came from one of them. nil: none.
	KnownPages func() []string
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", a.login)
	mux.HandleFunc("POST /api/v1/calls", a.authed(a.invite))
	mux.HandleFunc("POST /api/v1/calls/{id}/{action}", a.authed(a.action))
	mux.HandleFunc("POST /api/v1/calls/{id}/signal", a.authed(a.signal)) // api_signal.go
	mux.HandleFunc("GET /api/v1/calls", a.authed(a.listCalls))
	mux.HandleFunc("GET /api/v1/calls/{id}", a.authed(a.callState))
	mux.HandleFunc("GET /api/v1/events", a.authed(a.events))
	mux.HandleFunc("GET /api/v1/presence", a.authed(a.presence))
	mux.HandleFunc("GET /api/v1/session", a.authed(a.session)) // api_session.go
	mux.HandleFunc("DELETE /api/v1/session", a.authed(a.logout))
	a.registerConference(mux)
}

// apiError is an error answer: {"error": code, "message": text}.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...)}
}

// errorFor maps call errors to HTTP answers.
func errorFor(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	table := []struct {
		err    error
		status int
		code   string
	}{
		{account.ErrBadCredentials, http.StatusUnauthorized, "bad_credentials"},
		{account.ErrTokenExpired, http.StatusUnauthorized, "token_expired"},
		{account.ErrTokenRevoked, http.StatusUnauthorized, "token_revoked"},
		{account.ErrTokenSignature, http.StatusUnauthorized, "bad_token"},
		{account.ErrTokenUser, http.StatusUnauthorized, "bad_token"},
		{account.ErrThrottled, http.StatusTooManyRequests, "too_many_attempts"},
		{account.ErrBusy, http.StatusServiceUnavailable, "busy"},
		{account.ErrDirectory, http.StatusServiceUnavailable, "accounts_unavailable"},
		{account.ErrDisabled, http.StatusForbidden, "account_disabled"},
		{account.ErrBadToken, http.StatusUnauthorized, "bad_token"},
		{call.ErrNoCall, http.StatusNotFound, "no_call"},
		{call.ErrNotParty, http.StatusForbidden, "not_party"},
		{call.ErrAnswered, http.StatusConflict, "answered_elsewhere"},
		{call.ErrInCall, http.StatusConflict, "in_call"},
		{call.ErrState, http.StatusConflict, "state"},
		{call.ErrSelfCall, http.StatusBadRequest, "self_call"},
		{account.ErrBadUser, http.StatusBadRequest, "bad_user"},
		{call.ErrBadDTMF, http.StatusBadRequest, "bad_dtmf"},
		{call.ErrBadSignal, http.StatusBadRequest, "bad_signal"},
		{call.ErrSignalLimit, http.StatusTooManyRequests, "too_many_signals"},
	}
	for _, t := range table {
		if errors.Is(err, t.err) {
			return &apiError{t.status, t.code, err.Error()}
		}
	}
	return &apiError{http.StatusInternalServerError, "internal", err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	e := errorFor(err)
	var re *account.RetryError
	switch {
	case errors.As(err, &re):
		w.Header().Set("Retry-After", strconv.Itoa(re.Seconds()))
	case e.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case e.status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="flashvox"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "message": e.message})
}

// decodeBody reads a small JSON object into v, refusing unknown fields and
// trailing data. An empty body leaves v as it is.
func decodeBody(body io.Reader, v any) error { return decodeBodyMax(body, v, maxBodyBytes) }

// decodeBodyMax is decodeBody for a body of up to limit bytes.
func decodeBodyMax(body io.Reader, v any, limit int) error {
	b, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return badRequest("reading body: %v", err)
	}
	if len(b) > limit {
		return badRequest("body larger than %d bytes", limit)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body: %v", err)
	}
	if dec.More() {
		return badRequest("body: data after the JSON object")
	}
	return nil
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeBody(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	tok, exp, err := a.Auth.LoginFrom(a.Guard, r.RemoteAddr, req.User, req.Password)
	if err != nil {
		if !errors.Is(err, account.ErrThrottled) { // those are counted and logged by the guard, rate-limited
			a.logger().Info("login refused", "user", logUser(req.User), "remote", r.RemoteAddr, "why", err)
		}
		writeError(w, err)
		return
	}
	// cursor is the head of the user's event log: a client that starts
	// reading there sees what happens from its sign-in on, not the calls
	// that ended before it (a stale "Call ended").
	cursor := a.Calls.Log(req.User).Head()
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "user": req.User,
		"expires": exp.UTC().Format(time.RFC3339), "cursor": cursor})
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// authed checks the bearer token and runs h with the user's HTTP device,
// which stays online while requests are in flight.
func (a *API) authed(h func(http.ResponseWriter, *http.Request, *call.Device)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeError(w, &apiError{http.StatusUnauthorized, "no_token", "missing Authorization: Bearer TOKEN"})
			return
		}
		tok = strings.TrimSpace(tok)
		user, err := a.Auth.VerifyFrom(a.Guard, r.RemoteAddr, tok)
		if err != nil {
			writeError(w, err)
			return
		}
		d, done := a.Calls.HTTPBegin(user)
		defer done()
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)), d)
	}
}
