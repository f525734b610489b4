package web

import (
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
)

// Conference routes, registered when API.Conferences is set:
//
//	GET  /api/v1/conferences                              the rooms
//	GET  /api/v1/conferences/{room}                       one room
//	POST /api/v1/conferences/{room}/join   {pin, mode}    join as the user's HTTP device
//	POST /api/v1/conferences/{room}/leave                 leave (what the HTTP device joined)
//	POST /api/v1/conferences/{room}/lock | unlock | end   moderators
//	POST /api/v1/conferences/{room}/invite {target}      moderators: ring a user or call a number
//	POST /api/v1/conferences/{room}/members/{member}/mute | unmute | kick
//
// Room events reach the user's event log as conf_* events.
func (a *API) registerConference(mux *http.ServeMux) {
	if a.Conferences == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/conferences", a.authed(a.rooms))
	mux.HandleFunc("GET /api/v1/conferences/{room}", a.authed(a.room))
	mux.HandleFunc("POST /api/v1/conferences/{room}/{action}", a.authed(a.roomAction))
	mux.HandleFunc("POST /api/v1/conferences/{room}/members/{member}/{action}", a.authed(a.memberAction))
}

// httpMembers are the memberships joined through the HTTP API, by user and
// room, so that leave finds them.
type httpMembers struct {
	mu sync.Mutex
	m  map[[2]string]*conference.Member
}

func (h *httpMembers) put(user, room string, m *conference.Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[[2]string]*conference.Member{}
	}
	h.m[[2]string{user, room}] = m
}

func (h *httpMembers) take(user, room string) *conference.Member {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.m[[2]string{user, room}]
	delete(h.m, [2]string{user, room})
	return m
}

// conferenceError maps conference errors to HTTP answers.
func conferenceError(err error) error {
	table := []struct {
		err    error
		status int
		code   string
	}{
		{conference.ErrBadRoom, http.StatusBadRequest, "bad_room"},
		{conference.ErrBadMode, http.StatusBadRequest, "bad_mode"},
		{conference.ErrBadCodec, http.StatusBadRequest, "bad_codec"},
		{conference.ErrNoRoom, http.StatusNotFound, "no_room"},
		{conference.ErrNotMember, http.StatusNotFound, "not_member"},
		{conference.ErrRoomFull, http.StatusConflict, "room_full"},
		{conference.ErrTooManyRooms, http.StatusServiceUnavailable, "too_many_rooms"},
		{conference.ErrLocked, http.StatusForbidden, "locked"},
		{conference.ErrBadPIN, http.StatusForbidden, "bad_pin"},
		{conference.ErrNotModerator, http.StatusForbidden, "not_moderator"},
		{conference.ErrClosed, http.StatusServiceUnavailable, "shutdown"},
		{conference.ErrCannotInvite, http.StatusConflict, "cannot_invite"},
		{conference.ErrThrottled, http.StatusTooManyRequests, "throttled"},
		{conference.ErrMoving, http.StatusServiceUnavailable, "moving"}, // its node was just lost: retry
	}
	for _, t := range table {
		if errors.Is(err, t.err) {
			return &apiError{t.status, t.code, err.Error()}
		}
	}
	return err
}

// rooms lists the rooms with their members; stream names are for members
// only (their join answers and events), never listed.
func (a *API) rooms(w http.ResponseWriter, _ *http.Request, _ *call.Device) {
	writeJSON(w, http.StatusOK, map[string]any{"rooms": a.Conferences.Rooms()})
}

func (a *API) room(w http.ResponseWriter, r *http.Request, _ *call.Device) {
	info, err := a.Conferences.Room(r.PathValue("room"))
	if err != nil {
		writeError(w, conferenceError(err))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

type inviteRequest struct {
	Target string `json:"target"` // a user name or a phone number
}

type joinRequest struct {
	PIN  string `json:"pin,omitempty"`
	Mode string `json:"mode,omitempty"`
	// Codec is what the member's mix is encoded in (mixed rooms), for its
	// whole life: speex, nellymoser, pcmu, pcma; "" = the room's default.
	Codec string `json:"codec,omitempty"`
}

func (a *API) roomAction(w http.ResponseWriter, r *http.Request, d *call.Device) {
	room := r.PathValue("room")
	var err error
	switch r.PathValue("action") {
	case "join":
		var req joinRequest
		if err := decodeBody(r.Body, &req); err != nil {
			writeError(w, err)
			return
		}
		id, err := conference.ParseCodec(req.Codec)
		if err != nil {
			writeError(w, conferenceError(err))
			return
		}
		m, j, err := a.Conferences.Join(room, conference.JoinOptions{User: d.User, PIN: req.PIN, Mode: conference.Mode(req.Mode),
			Codec: id, Addr: r.RemoteAddr, Notify: conference.LogNotifier(a.Calls.Log(d.User)), Transport: d.Kind})
		if te := (*conference.ThrottledError)(nil); errors.As(err, &te) {
			w.Header().Set("Retry-After", strconv.Itoa(int(te.Retry.Seconds())+1))
		}
		if err != nil {
			writeError(w, conferenceError(err))
			return
		}
		if old := a.confMembers.take(d.User, room); old != nil {
			old.Leave() // joining again replaces the HTTP device's membership
		}
		a.confMembers.put(d.User, room, m)
		writeJSON(w, http.StatusOK, j)
		return
	case "leave":
		m := a.confMembers.take(d.User, room)
		if m == nil {
			writeError(w, conferenceError(conference.ErrNotMember))
			return
		}
		m.Leave()
	case "lock", "unlock":
		err = a.Conferences.Lock(d.User, room, r.PathValue("action") == "lock")
	case "end":
		err = a.Conferences.End(d.User, room)
	case "invite":
		var req inviteRequest
		if err := decodeBody(r.Body, &req); err != nil {
			writeError(w, err)
			return
		}
		err = a.Conferences.Invite(d.User, room, req.Target)
	default:
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown conference action " + strconv.Quote(r.PathValue("action")) + " (join, leave, lock, unlock, end, invite)"})
		return
	}
	if err != nil {
		writeError(w, conferenceError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"room": room})
}

func (a *API) memberAction(w http.ResponseWriter, r *http.Request, d *call.Device) {
	room, member := r.PathValue("room"), r.PathValue("member")
	var err error
	switch r.PathValue("action") {
	case "mute", "unmute":
		err = a.Conferences.Mute(d.User, room, member, r.PathValue("action") == "mute")
	case "kick":
		err = a.Conferences.Kick(d.User, room, member)
	default:
		writeError(w, &apiError{http.StatusNotFound, "not_found", "unknown member action " + strconv.Quote(r.PathValue("action")) + " (mute, unmute, kick)"})
		return
	}
	if err != nil {
		writeError(w, conferenceError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"room": room, "member": member})
}
