package web

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/events"
)

// callRequest is the body of POST /calls and of the call actions; each
// route reads the fields it needs.
type callRequest struct {
	To     string `json:"to,omitempty"`
	PeerID string `json:"peerId,omitempty"`
	Reason string `json:"reason,omitempty"`
	Digits string `json:"digits,omitempty"`
	Mode   string `json:"mode,omitempty"` // media: p2p or relay (api_signal.go)
}

func (a *API) invite(w http.ResponseWriter, r *http.Request, d *call.Device) {
	var req callRequest
	if err := decodeBody(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.To == "" {
		writeError(w, badRequest(`body needs "to"`))
		return
	}
	id, err := a.Calls.Invite(d, req.To, req.PeerID)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"call": id})
}

func (a *API) action(w http.ResponseWriter, r *http.Request, d *call.Device) {
	var req callRequest
	if err := decodeBody(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "accept":
		var e call.Event
		if e, err = a.Calls.Accept(d, id, req.PeerID); err == nil {
			writeJSON(w, http.StatusOK, map[string]string{"call": e.Call, "publish": e.Publish, "play": e.Play, "mode": e.Mode, "peerId": e.PeerID, "device": e.Device})
			return
		}
	case "reject":
		err = a.Calls.Reject(d, id, req.Reason)
	case "hangup":
		err = a.Calls.Hangup(d, id)
	case "dtmf":
		err = a.Calls.DTMF(d, id, req.Digits)
	case "media":
		err = a.media(d, id, req.Mode)
	default:
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown call action " + strconv.Quote(r.PathValue("action")) + " (accept, reject, hangup, dtmf, media, signal)"})
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"call": id})
}

// listCalls answers GET /calls: the user's ringing and active calls, each
// with its media mode once answered.
func (a *API) listCalls(w http.ResponseWriter, _ *http.Request, d *call.Device) {
	writeJSON(w, http.StatusOK, map[string]any{"calls": a.Calls.CallStates(d.User)})
}

// callState answers GET /calls/{id}: one call of the user (404 once ended:
// the event log keeps the record).
func (a *API) callState(w http.ResponseWriter, r *http.Request, d *call.Device) {
	st, err := a.Calls.CallState(d, r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// eventsPage is the answer of GET /events.
type eventsPage struct {
	Cursor uint64         `json:"cursor"`
	Events []events.Entry `json:"events"`
	Missed uint64         `json:"missed,omitempty"`
}

// events answers GET /events?cursor=N[&wait=30s]: the user's events from
// cursor N on, at once (polling) or as soon as there is one (long-poll).
func (a *API) events(w http.ResponseWriter, r *http.Request, d *call.Device) {
	q := r.URL.Query()
	var cursor uint64
	if s := q.Get("cursor"); s != "" {
		c, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, badRequest("cursor must be a non-negative integer, got %q", s))
			return
		}
		cursor = c
	}
	wait, err := parseWait(q.Get("wait"), a.maxWait())
	if err != nil {
		writeError(w, err)
		return
	}
	log := a.Calls.Log(d.User)
	var p events.Page
	if wait > 0 {
		if !a.polls.enter(d.User, cmp.Or(a.MaxPolls, defaultMaxPolls)) {
			writeError(w, &apiError{http.StatusTooManyRequests, "too_many_polls", "too many long-polls waiting for this user"})
			return
		}
		defer a.polls.leave(d.User)
		// The long-poll ends, with the token's error, when the token
		// expires or is revoked while it waits.
		tw, err := a.Auth.Watch(requestToken(r))
		if err != nil {
			writeError(w, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		go func() {
			select {
			case <-tw.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		p, _ = log.Wait(ctx, cursor, pageLimit) // a timeout answers the empty page
		cancel()
		tw.Stop()
		if err := tw.Err(); err != nil {
			writeError(w, err)
			return
		}
	} else {
		p = log.Since(cursor, pageLimit)
	}
	if p.Events == nil {
		p.Events = []events.Entry{}
	}
	writeJSON(w, http.StatusOK, eventsPage{Cursor: p.Next, Events: p.Events, Missed: p.Missed})
}

// defaultMaxPolls is API.MaxPolls's default.
const defaultMaxPolls = 8

// pollCount counts each user's long-polls waiting now.
type pollCount struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *pollCount) enter(user string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[user] >= max {
		return false
	}
	c.n[user]++
	return true
}

func (c *pollCount) leave(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[user]--; c.n[user] <= 0 {
		delete(c.n, user)
	}
}

func (a *API) maxWait() time.Duration {
	if a.MaxWait > 0 {
		return a.MaxWait
	}
	return defaultMaxWait
}

// parseWait reads a long-poll duration ("30s", "500ms", or plain seconds
// "30"), clamped to max.
func parseWait(s string, max time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		n, err2 := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
		if err2 != nil {
			return 0, badRequest("wait must be a duration like 30s, got %q", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, badRequest("wait must not be negative, got %q", s)
	}
	return min(d, max), nil
}

func (a *API) presence(w http.ResponseWriter, _ *http.Request, d *call.Device) {
	writeJSON(w, http.StatusOK, map[string]any{"users": a.Calls.PresenceFor(d.User)}) // contacts decide who sees whom
}
