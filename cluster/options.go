package cluster

import (
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// Options configure a Cluster (from config.Cluster).
type Options struct {
	Node   string // this node's name, unique and subject-safe
	Secret string // NATS client token and route password
	// NATSURL joins an external NATS; "" runs the embedded server on
	// Listen (routes) with Routes and, when set, ClientListen.
	NATSURL      string
	Listen       string
	Routes       []string
	ClientListen string
	// TLS, when set, puts the routes, the client port and the connection
	// to NATSURL under mutual TLS against TLS.CA (tls.go); nil = clear.
	TLS       *TLSFiles
	Heartbeat time.Duration
	// RelayBatch is the longest a relayed frame waits for others to go
	// to the same node in one NATS message (batch.go, export.go): 0 sends
	// at once what is queued together.
	RelayBatch time.Duration
	// RTMPURL is how clients reach this node (for the others' redirects);
	// RedirectAbove the clients (Load.Clients: connections and page
	// users) above which Redirect sends new ones to the least loaded
	// other node (0 = never).
	RTMPURL       string
	RedirectAbove int
	// HTTPURL (http(s)://HOST:PORT) and RTMFPAddr (IP:port) are how
	// clients reach this node's page and RTMFP: other nodes above their
	// load send new page loads and RTMFP handshakes there (placement.go).
	HTTPURL   string
	RTMFPAddr string
	Hub       *media.Hub
	// Transcoder is the hub's transcoding service: it transcodes this
	// node's streams for other nodes' players (one transcoder per
	// stream and codec for the cluster) and fetches other nodes'
	// variants for its own (variants.go); nil: neither, players of a
	// codec on this node get the stream relayed and transcoded here...
	// not at all (no Service). TranscodeBudget is the Target.Budget of
	// the transcoders started for other nodes (rtmp.max_transcoders:
	// >0 at most that many budgeted ones, 0 not bounded, <0 none).
	Transcoder      *transcode.Service
	TranscodeBudget int
	// Load tells this node's load for its heartbeat (CPU is measured here).
	Load func() Load
	// Users tells the users online here (user → online or busy) for the
	// heartbeat: calls between nodes find the callee's node by it, and
	// Presence gets it on the other nodes; nil = none.
	Users func() map[string]string
	// Presence, when set, is handed every heartbeat the users online on
	// the other nodes (user → online or busy: the status on the node with
	// the most recent claim, where calls to the user go).
	Presence func(remote map[string]string)
	// Leases, when set, is the store of conference room leases every
	// node shares (lease.go): a room is held by its lease's holder. nil =
	// rooms are placed by asking the nodes and rendezvous hashing.
	Leases Leases
	// PresenceChanged, when set, is handed the users whose presence on
	// the other nodes another node's presence message changed (user →
	// online or busy, "" for online on no other node), at once (unset:
	// Presence gets the whole list then).
	PresenceChanged func(changed map[string]string)
	Logger          *slog.Logger
}

// Load is what a node's heartbeat says of it.
type Load struct {
	Connections int `json:"connections"` // client connections: RTMP (RTMPT included) and RTMFP sessions
	// Pages is the page's users: users signed in over the HTTP API (one
	// each, however many tabs and long-polls) plus open WebRTC sessions
	// (WHIP and WHEP: a page in a call holds two).
	Pages   int     `json:"pages"`
	Streams int     `json:"streams"` // publishers in the hub, relays included
	Calls   int     `json:"calls"`   // calls ringing or answered
	CPU     float64 `json:"cpu"`     // cores used by the process over the last heartbeat
	Users   int     `json:"users"`   // users online (their names go to the other nodes only)
}

// Clients is the count load placement compares with
// Options.RedirectAbove and between nodes: connections and page users.
func (l Load) Clients() int { return l.Connections + l.Pages }
