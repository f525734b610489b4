package cluster

import (
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/media"
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
	Heartbeat    time.Duration
	// RTMPURL is how clients reach this node (for the others' redirects);
	// RedirectAbove the client connections above which Redirect sends new
	// ones to the least loaded other node (0 = never).
	RTMPURL       string
	RedirectAbove int
	// HTTPURL (http(s)://HOST:PORT) and RTMFPAddr (IP:port) are how
	// clients reach this node's page and RTMFP: other nodes above their
	// load send new page loads and RTMFP handshakes there (placement.go).
	HTTPURL   string
	RTMFPAddr string
	Hub       *media.Hub
	// Load tells this node's load for its heartbeat (CPU is measured here).
	Load func() Load
	// Users tells the users online here (user → online or busy) for the
	// heartbeat: calls between nodes find the callee's node by it, and
	// Presence gets it on the other nodes; nil = none.
	Users func() map[string]string
	// Presence, when set, is handed every heartbeat the users online on
	// the other nodes (user → online or busy; busy wins).
	Presence func(remote map[string]string)
	// Leases, when set, is the store of conference room leases every
	// node shares (lease.go): a room is held by its lease's holder. nil =
	// rooms are placed by asking the nodes and rendezvous hashing.
	Leases Leases
	Logger *slog.Logger
}

// Load is what a node's heartbeat says of it.
type Load struct {
	Connections int     `json:"connections"` // client connections (RTMP, RTMFP, …)
	Streams     int     `json:"streams"`     // publishers in the hub, relays included
	Calls       int     `json:"calls"`       // calls ringing or answered
	CPU         float64 `json:"cpu"`         // cores used by the process over the last heartbeat
	Users       int     `json:"users"`       // users online (their names go to the other nodes only)
}
