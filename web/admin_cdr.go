package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/store"
)

// Admin serves the admin API under /api/v1/admin to users with the admin
// role only (403 forbidden for every other valid token, 401 without one):
// the call detail records (admin_cdr.go) and the accounts
// (admin_users.go), both in the store; with Live, the operator's
// dashboard at /admin and its live view and actions (admin_live.go,
// admin_actions.go, admin_page.go).
type Admin struct {
	Auth *account.Auth
	// Guard slows token guessing, as on every API route.
	Guard account.Guard
	Roles RoleLookup
	CDRs  CDRSource
	Users UserStore
	// Realm is the SIP realm the HA1s of passwords set here are for.
	Realm string
	// Live, when set, serves the dashboard's live view and actions.
	Live   *Live
	Logger *slog.Logger
	polls  pollCount // admins' live long-polls waiting now
}

// RoleLookup names a user's role (admin, moderator, user; "" for a user
// the store does not know, such as a site-minted token's).
type RoleLookup interface {
	Role(user string) (string, error)
}

// CDRSource is where the records are (package store): calls, conference
// memberships, SIP legs, WebRTC sessions.
type CDRSource interface {
	CDRs(ctx context.Context, f store.CDRFilter) ([]store.CDR, error)
	Memberships(ctx context.Context, f store.CDRFilter) ([]store.Membership, error)
	SIPLegs(ctx context.Context, f store.CDRFilter) ([]store.SIPLeg, error)
	WebRTCSessions(ctx context.Context, f store.CDRFilter) ([]store.WebRTCSession, error)
}

// maxCDRPage bounds one answer of the CDR endpoint.
const maxCDRPage = 1000

// Register adds the admin routes to mux.
func (a *Admin) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/admin/cdr", a.admin(a.listCDRs))
	mux.HandleFunc("GET /api/v1/admin/users", a.admin(a.listUsers))
	mux.HandleFunc("POST /api/v1/admin/users", a.admin(a.addUser))
	mux.HandleFunc("PATCH /api/v1/admin/users/{name}", a.admin(a.changeUser))
	mux.HandleFunc("GET /admin", a.page)
	if a.Live != nil {
		a.registerLive(mux)
	}
}

func (a *Admin) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// adminUserKey carries the verified admin's name in a request's context.
type adminUserKey struct{}

// adminUser is the admin that admin verified for r.
func adminUser(r *http.Request) string {
	u, _ := r.Context().Value(adminUserKey{}).(string)
	return u
}

// admin checks the origin, the bearer token and the admin role, then
// runs h with the token and the admin's name in the request's context.
func (a *Admin) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, user, err := a.verify(r)
		if err != nil {
			writeError(w, err)
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), tokenKey{}, tok), adminUserKey{}, user)
		h(w, r.WithContext(ctx))
	}
}

// verify refuses a request from another origin (403 cross_origin), one
// without a valid bearer token (401) and one of a user without the admin
// role (403 forbidden); it returns the token and the admin.
func (a *Admin) verify(r *http.Request) (tok, user string, err error) {
	if !sameOrigin(r) {
		return "", "", &apiError{http.StatusForbidden, "cross_origin", "the admin API answers its own origin only"}
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", "", &apiError{http.StatusUnauthorized, "no_token", "missing Authorization: Bearer TOKEN"}
	}
	tok = strings.TrimSpace(tok)
	if user, err = a.Auth.VerifyFrom(a.Guard, r.RemoteAddr, tok); err != nil {
		return "", "", err
	}
	role, err := a.Roles.Role(user)
	if err != nil {
		return "", "", &apiError{http.StatusServiceUnavailable, "accounts_unavailable", "the account store does not answer"}
	}
	if role != "admin" {
		return "", "", &apiError{http.StatusForbidden, "forbidden", "admin role required"}
	}
	return tok, user, nil
}

// sameOrigin reports whether r has no Origin header (not a browser's
// cross-origin request) or one naming r's own host: a page elsewhere that
// holds a stolen token cannot drive the admin API from a browser.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// cdrFilter reads from, to (RFC 3339), user (or party, its other name),
// limit (1..1000, default 100) and offset.
func cdrFilter(r *http.Request) (store.CDRFilter, error) {
	q := r.URL.Query()
	f := store.CDRFilter{User: q.Get("user"), Limit: 100}
	if f.User == "" {
		f.User = q.Get("party")
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, badRequest("%s: want an RFC 3339 time like 2026-01-02T15:04:05Z, got %q", p.name, v)
			}
			*p.to = t
		}
	}
	for _, p := range []struct {
		name   string
		to     *int
		lo, hi int
	}{{"limit", &f.Limit, 1, maxCDRPage}, {"offset", &f.Offset, 0, 1 << 30}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.lo || n > p.hi {
				return f, badRequest("%s: want %d..%d, got %q", p.name, p.lo, p.hi, v)
			}
			*p.to = n
		}
	}
	return f, nil
}

// cdrJSON is one record in the JSON answer.
type cdrJSON struct {
	ID              string  `json:"id"`
	Caller          string  `json:"caller"`
	Callee          string  `json:"callee"`
	CallerTransport string  `json:"callerTransport"`
	CalleeTransport string  `json:"calleeTransport,omitempty"`
	CallerCodec     string  `json:"callerCodec,omitempty"`
	CalleeCodec     string  `json:"calleeCodec,omitempty"`
	Mode            string  `json:"mode,omitempty"`
	FellBack        bool    `json:"fellBack,omitempty"`
	Started         string  `json:"started"`
	Answered        string  `json:"answered,omitempty"`
	Ended           string  `json:"ended"`
	Duration        float64 `json:"duration"`
	EndEvent        string  `json:"endEvent"`
	Reason          string  `json:"reason,omitempty"`
	EndedBy         string  `json:"endedBy,omitempty"`
	// null: not known (a p2p call's bytes; loss and jitter without RTCP).
	CallerBytes *int64   `json:"callerBytes"`
	CalleeBytes *int64   `json:"calleeBytes"`
	LossPct     *float64 `json:"lossPct"`
	JitterMS    *float64 `json:"jitterMs"`
	Recording   string   `json:"recording,omitempty"`
}

// listCDRs answers a page of records of one kind (?kind=call, the
// default; conference; sip; webrtc), newest first: JSON {"records", "next"}
// ("next": the offset of the next page, absent on the last), or CSV with
// ?format=csv.
func (a *Admin) listCDRs(w http.ResponseWriter, r *http.Request) {
	f, err := cdrFilter(r)
	if err != nil {
		writeError(w, err)
		return
	}
	csv := r.URL.Query().Get("format") == "csv"
	switch kind := r.URL.Query().Get("kind"); kind {
	case "", store.KindCall:
		answerPage(r.Context(), w, f, csv, a.CDRs.CDRs, store.WriteCSV, callJSON)
	case store.KindConference:
		answerPage(r.Context(), w, f, csv, a.CDRs.Memberships, store.WriteMembershipsCSV, membershipJSON)
	case store.KindSIP:
		answerPage(r.Context(), w, f, csv, a.CDRs.SIPLegs, store.WriteSIPLegsCSV, legJSON)
	case store.KindWebRTC:
		answerPage(r.Context(), w, f, csv, a.CDRs.WebRTCSessions, store.WriteWebRTCSessionsCSV, webrtcJSON)
	default:
		writeError(w, badRequest("kind: want call, conference, sip or webrtc, got %q", kind))
	}
}

// answerPage reads one page with read and answers it as CSV (writeCSV)
// or JSON (each record through toJSON).
func answerPage[T, J any](ctx context.Context, w http.ResponseWriter, f store.CDRFilter, csv bool, read func(context.Context, store.CDRFilter) ([]T, error),
	writeCSV func(io.Writer, []T) error, toJSON func(T) J) {
	limit := f.Limit
	f.Limit++ // one more says whether a next page exists
	rs, err := read(ctx, f)
	if err != nil {
		writeError(w, &apiError{http.StatusServiceUnavailable, "store_unavailable", "the store does not answer"})
		return
	}
	more := len(rs) > limit
	rs = rs[:min(len(rs), limit)]
	if csv {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="flashvox-cdr.csv"`)
		_ = writeCSV(w, rs)
		return
	}
	out := struct {
		Records []J  `json:"records"`
		Next    *int `json:"next,omitempty"`
	}{Records: make([]J, 0, len(rs))}
	for _, r := range rs {
		out.Records = append(out.Records, toJSON(r))
	}
	if more {
		next := f.Offset + limit
		out.Next = &next
	}
	writeJSON(w, http.StatusOK, out)
}

func callJSON(c store.CDR) cdrJSON {
	return cdrJSON{ID: c.ID, Caller: c.Caller, Callee: c.Callee, CallerTransport: c.CallerTransport,
		CalleeTransport: c.CalleeTransport, CallerCodec: c.CallerCodec, CalleeCodec: c.CalleeCodec, Mode: c.Mode, FellBack: c.FellBack,
		Started: store.FormatTime(c.Started), Answered: store.FormatTime(c.Answered), Ended: store.FormatTime(c.Ended),
		Duration: c.Duration().Seconds(), EndEvent: c.EndEvent, Reason: c.Reason, EndedBy: c.EndedBy,
		CallerBytes: c.CallerBytes, CalleeBytes: c.CalleeBytes, LossPct: c.LossPct, JitterMS: c.JitterMS, Recording: c.Recording}
}
