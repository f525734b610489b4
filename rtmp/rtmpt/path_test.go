package rtmpt

import (
	"errors"
	"testing"
)

// pathCases drive TestParsePath and seed FuzzParsePath.
var pathCases = []struct {
	path string
	want Request
	err  error
}{
	{"/fcs/ident2", Request{Cmd: CmdIdent}, nil},
	{"/open/1", Request{Cmd: CmdOpen}, nil},
	{"/send/abc123/0", Request{Cmd: CmdSend, Session: "abc123", Seq: 0}, nil},
	{"/idle/oszga7n2wzt7phnhel56r5kxwi/7", Request{Cmd: CmdIdle, Session: "oszga7n2wzt7phnhel56r5kxwi", Seq: 7}, nil},
	{"/close/X/18446744073709551615", Request{Cmd: CmdClose, Session: "X", Seq: 1<<64 - 1}, nil},
	{"/send/abc/18446744073709551616", Request{}, ErrBadPath}, // overflows uint64
	{"/send/abc/01", Request{}, ErrBadPath},
	{"/send/abc/-1", Request{}, ErrBadPath},
	{"/send/abc/", Request{}, ErrBadPath},
	{"/send//1", Request{}, ErrBadPath},
	{"/send/a-b/1", Request{}, ErrBadPath},
	{"/send/abc/1/", Request{}, ErrBadPath},
	{"/send/abc/1/2", Request{}, ErrBadPath},
	{"/send/" + string(make([]byte, 65)) + "/1", Request{}, ErrBadPath},
	{"/open/2", Request{}, ErrBadPath},
	{"/fcs/ident", Request{}, ErrBadPath},
	{"/poll/abc/1", Request{}, ErrBadPath},
	{"send/abc/1", Request{}, ErrBadPath},
	{"", Request{}, ErrBadPath},
	{"/", Request{}, ErrBadPath},
}

func TestParsePath(t *testing.T) {
	for _, tt := range pathCases {
		got, err := ParsePath(tt.path)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v, %v", tt.path, got, err, tt.want, tt.err)
		}
		if err == nil && got.Path() != tt.path {
			t.Errorf("Path() = %q, want %q", got.Path(), tt.path)
		}
	}
}

// FuzzParsePath: no input panics, and every accepted path formats back to
// itself.
func FuzzParsePath(f *testing.F) {
	for _, tt := range pathCases {
		f.Add(tt.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		r, err := ParsePath(path)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("error %v is not ErrBadPath", err)
			}
			return
		}
		if r.Path() != path {
			t.Fatalf("round trip %q -> %+v -> %q", path, r, r.Path())
		}
		if r2, err := ParsePath(r.Path()); err != nil || r2 != r {
			t.Fatalf("reparse %q: %+v, %v", r.Path(), r2, err)
		}
	})
}
