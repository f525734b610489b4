package rtmpt

import (
	"fmt"
	"strconv"
	"strings"
)

// Command is the verb of a tunnel request.
type Command int

// Tunnel commands, named by the first path element.
const (
	CmdIdent Command = iota + 1 // POST /fcs/ident2: Flash Player's probe before open
	CmdOpen                     // POST /open/1
	CmdSend                     // POST /send/ID/SEQ: RTMP bytes in the body
	CmdIdle                     // POST /idle/ID/SEQ: poll, body one 0x00 byte
	CmdClose                    // POST /close/ID/SEQ
)

func (c Command) String() string {
	switch c {
	case CmdIdent:
		return "ident2"
	case CmdOpen:
		return "open"
	case CmdSend:
		return "send"
	case CmdIdle:
		return "idle"
	case CmdClose:
		return "close"
	}
	return fmt.Sprintf("Command(%d)", int(c))
}

// maxIDLen bounds a session id in a path (ours are idLen long).
const maxIDLen = 64

// Request is a parsed tunnel request path.
type Request struct {
	Cmd     Command
	Session string // send, idle, close
	Seq     uint64 // send, idle, close
}

// ParsePath parses a request path. It accepts exactly the forms the
// clients send: /fcs/ident2, /open/1 and /CMD/ID/SEQ with ID 1..64
// letters and digits and SEQ a decimal without leading zeros.
func ParsePath(path string) (Request, error) {
	switch path {
	case "/fcs/ident2":
		return Request{Cmd: CmdIdent}, nil
	case "/open/1":
		return Request{Cmd: CmdOpen}, nil
	}
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return Request{}, ErrBadPath
	}
	verb, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Request{}, ErrBadPath
	}
	var r Request
	switch verb {
	case "send":
		r.Cmd = CmdSend
	case "idle":
		r.Cmd = CmdIdle
	case "close":
		r.Cmd = CmdClose
	default:
		return Request{}, ErrBadPath
	}
	id, seq, ok := strings.Cut(rest, "/")
	if !ok || !validID(id) || !validSeq(seq) {
		return Request{}, ErrBadPath
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return Request{}, ErrBadPath
	}
	r.Session, r.Seq = id, n
	return r, nil
}

// Path formats r back into its request path (ParsePath's inverse).
func (r Request) Path() string {
	switch r.Cmd {
	case CmdIdent:
		return "/fcs/ident2"
	case CmdOpen:
		return "/open/1"
	}
	return "/" + r.Cmd.String() + "/" + r.Session + "/" + strconv.FormatUint(r.Seq, 10)
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validSeq(s string) bool {
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
