package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/flashvox/flashvox/conference"
)

// Admin long-poll limits.
const (
	adminMaxWait  = 25 * time.Second // below the HTTP write timeout (web.go limits)
	adminMaxPolls = 4                // one admin's long-polls waiting at once: a few tabs
)

// registerLive adds the dashboard's live view and actions (a.Live set).
func (a *Admin) registerLive(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/admin/live", a.admin(a.live))
	mux.HandleFunc("GET /api/v1/admin/history", a.admin(a.history))
	mux.HandleFunc("POST /api/v1/admin/calls/{id}/hangup", a.admin(a.hangupCall))
	mux.HandleFunc("POST /api/v1/admin/rooms/{room}/end", a.admin(a.endRoom))
	mux.HandleFunc("POST /api/v1/admin/rooms/{room}/members/{member}/kick", a.admin(a.kickMember))
	mux.HandleFunc("POST /api/v1/admin/rooms/{room}/members/{member}/{action}", a.admin(a.muteMember))
	mux.HandleFunc("POST /api/v1/admin/rooms/{room}/{action}", a.admin(a.lockRoom))
}

// live answers GET /api/v1/admin/live?since=N&wait=25s: the overview
// once its version is past N (at once without wait, or when since is
// older), else the current one when wait ends. The long-poll ends with
// the token's error when the token is revoked or expires meanwhile.
func (a *Admin) live(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since uint64
	if s := q.Get("since"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, badRequest("since must be a non-negative integer, got %q", s))
			return
		}
		since = n
	}
	wait, err := parseWait(q.Get("wait"), adminMaxWait)
	if err != nil {
		writeError(w, err)
		return
	}
	if wait == 0 {
		writeJSON(w, http.StatusOK, a.Live.refresh())
		return
	}
	user := adminUser(r)
	if !a.polls.enter(user, adminMaxPolls) {
		writeError(w, &apiError{http.StatusTooManyRequests, "too_many_polls", "too many long-polls waiting for this user"})
		return
	}
	defer a.polls.leave(user)
	tw, err := a.Auth.Watch(requestToken(r))
	if err != nil {
		writeError(w, err)
		return
	}
	defer tw.Stop()
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	go func() {
		select {
		case <-tw.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	v := a.Live.wait(ctx, since)
	if err := tw.Err(); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// history answers GET /api/v1/admin/history: the samples of concurrent
// calls and published streams, oldest first, and their interval.
func (a *Admin) history(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"interval": durationOr(a.Live.Sample, 10*time.Second).Seconds(),
		"samples": a.Live.History()})
}

// hangupCall ends a call for the operator (POST
// /api/v1/admin/calls/{id}/hangup): both parties get bye (cancelled if
// still ringing) with reason admin; 404 when no such call.
func (a *Admin) hangupCall(w http.ResponseWriter, r *http.Request) {
	if a.Live.Calls == nil {
		writeError(w, &apiError{http.StatusNotFound, "no_call", "no such call"})
		return
	}
	if err := a.Live.Calls.EndByOperator(r.PathValue("id"), adminUser(r)); err != nil {
		writeError(w, err)
		return
	}
	a.acted(w, r, "call hung up", "call", r.PathValue("id"))
}

// endRoom ends a conference room (POST /api/v1/admin/rooms/{room}/end).
func (a *Admin) endRoom(w http.ResponseWriter, r *http.Request) {
	room := r.PathValue("room")
	err := conference.ErrNoRoom
	if a.Live.Rooms != nil {
		err = a.Live.Rooms.End("", room) // as the server: the operator is no room's moderator
	}
	if err != nil {
		writeError(w, roomError(err))
		return
	}
	a.acted(w, r, "room ended", "room", room)
}

// kickMember removes a member from a room (POST
// /api/v1/admin/rooms/{room}/members/{member}/kick).
func (a *Admin) kickMember(w http.ResponseWriter, r *http.Request) {
	room, member := r.PathValue("room"), r.PathValue("member")
	err := conference.ErrNoRoom
	if a.Live.Rooms != nil {
		err = a.Live.Rooms.Remove(room, member, adminUser(r))
	}
	if err != nil {
		writeError(w, roomError(err))
		return
	}
	a.acted(w, r, "member kicked", "room", room, "member", member)
}

// muteMember mutes or unmutes a member (POST
// /api/v1/admin/rooms/{room}/members/{member}/mute or unmute): the room is
// told, by the operator.
func (a *Admin) muteMember(w http.ResponseWriter, r *http.Request) {
	room, member, action := r.PathValue("room"), r.PathValue("member"), r.PathValue("action")
	if action != "mute" && action != "unmute" {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown member action " + strconv.Quote(action) + " (kick, mute, unmute)"})
		return
	}
	err := conference.ErrNoRoom
	if a.Live.Rooms != nil {
		err = a.Live.Rooms.MuteByOperator(room, member, adminUser(r), action == "mute")
	}
	if err != nil {
		writeError(w, roomError(err))
		return
	}
	a.acted(w, r, "member "+action+"d", "room", room, "member", member)
}

// lockRoom locks or unlocks a room (POST /api/v1/admin/rooms/{room}/lock
// or unlock): nobody else may join a locked room.
func (a *Admin) lockRoom(w http.ResponseWriter, r *http.Request) {
	room, action := r.PathValue("room"), r.PathValue("action")
	if action != "lock" && action != "unlock" {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown room action " + strconv.Quote(action) + " (end, lock, unlock)"})
		return
	}
	err := conference.ErrNoRoom
	if a.Live.Rooms != nil {
		err = a.Live.Rooms.LockByOperator(room, adminUser(r), action == "lock")
	}
	if err != nil {
		writeError(w, roomError(err))
		return
	}
	a.acted(w, r, "room "+action+"ed", "room", room)
}

// acted logs an operator's action, refreshes the live view (so waiting
// dashboards see it now) and answers 204.
func (a *Admin) acted(w http.ResponseWriter, r *http.Request, what string, args ...any) {
	a.logger().Info("admin: "+what, append(args, "by", adminUser(r), "remote", r.RemoteAddr)...)
	a.Live.refresh()
	w.WriteHeader(http.StatusNoContent)
}

// roomError maps the room service's errors to answers.
func roomError(err error) *apiError {
	switch {
	case errors.Is(err, conference.ErrNoRoom):
		return &apiError{http.StatusNotFound, "no_room", "no such room"}
	case errors.Is(err, conference.ErrNotMember):
		return &apiError{http.StatusNotFound, "no_member", "no such member in the room"}
	}
	return errorFor(err)
}
