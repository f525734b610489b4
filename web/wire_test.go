package web

import "time"

// wirePage and wireEvent are GET /events as docs/PROTOCOL.md shows it: the
// layout clients parse, decoded here apart from the server's own types.
type wirePage struct {
	Cursor uint64      `json:"cursor"`
	Events []wireEvent `json:"events"`
	Missed uint64      `json:"missed,omitempty"`
}

type wireEvent struct {
	Cursor  uint64    `json:"cursor"`
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Call    string    `json:"call,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by,omitempty"`
	Publish string    `json:"publish,omitempty"`
	Play    string    `json:"play,omitempty"`
	Mode    string    `json:"mode,omitempty"`
	PeerID  string    `json:"peerId,omitempty"`
	Device  string    `json:"device,omitempty"`
	User    string    `json:"user,omitempty"`
	Status  string    `json:"status,omitempty"`
	Digits  string    `json:"digits,omitempty"`
	Room    string    `json:"room,omitempty"`
	Member  string    `json:"member,omitempty"`
	Signal  string    `json:"signal,omitempty"`
}
