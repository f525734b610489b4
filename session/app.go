package session

import (
	"context"
	"errors"
	"strings"

	"github.com/flashvox/flashvox/amf"
)

// App is an RTMP application (the path of rtmp://host/APP) with its own
// rules: who may connect, which NetConnection calls it serves, and which
// stream names a connection may publish or play. Only applications listed
// in Options.Apps exist (LiveApp for plain publish/play, session/access.go).
type App interface {
	// Connect admits a connection. obj is connect's command object, args the
	// connection arguments. An error rejects it (NetConnection.Connect.Rejected
	// with the error text as the description) and closes the connection.
	Connect(ctx context.Context, s *Session, obj *amf.Object, args []any) (AppConn, error)
}

// AppConn is one admitted connection of an App. The session calls it from
// its Serve goroutine only.
type AppConn interface {
	// Call serves a NetConnection.call the session does not know. The result
	// is sent in _result; an error becomes _error (NetConnection.Call.Failed)
	// with its text as the description. ErrUnknownMethod is the usual refusal.
	Call(ctx context.Context, name string, args []any) (any, error)
	// Publish maps a requested name to the hub key to publish, or refuses.
	Publish(name string) (key string, err error)
	// Play maps a requested name to the hub key to play, or refuses.
	Play(name string) (key string, err error)
	// Close runs once when the connection ends.
	Close()
}

// ErrUnknownMethod refuses a NetConnection.call.
var ErrUnknownMethod = errors.New("method is not served by this application")

// splitName separates a stream name from its query string (tokens, codec
// choice) and drops a short "mp4:"/"flv:" style prefix players add.
func splitName(name string) (base, query string) {
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name, query = name[:i], name[i+1:]
	}
	if i := strings.IndexByte(name, ':'); i >= 0 && i <= 4 {
		name = name[i+1:]
	}
	return name, query
}
