package webrtc

import (
	"strings"
	"testing"
)

var pathCases = []struct {
	path                string
	app, name, kind, id string
	ok                  bool
}{
	{"/live/x/whip", "live", "x", "whip", "", true},
	{"/live/x/whep", "live", "x", "whep", "", true},
	{"/live/x/whep/abc", "live", "x", "whep", "abc", true},
	{"/live/x/whap", "", "", "", "", false},
	{"/live//whip", "", "", "", "", false},
	{"//x/whip", "", "", "", "", false},
	{"/live/x/whip/", "", "", "", "", false},
	{"/live/x/whip/a/b", "", "", "", "", false},
	{"/open/1", "", "", "", "", false},
	{"/", "", "", "", "", false},
}

func TestSplitPath(t *testing.T) {
	for _, c := range pathCases {
		app, name, kind, id, ok := splitPath(c.path)
		if ok != c.ok || app != c.app || name != c.name || kind != c.kind || id != c.id {
			t.Errorf("splitPath(%q) = %q %q %q %q %v", c.path, app, name, kind, id, ok)
		}
	}
}

// FuzzSplitPath: a match rebuilds the path it came from.
func FuzzSplitPath(f *testing.F) {
	for _, c := range pathCases {
		f.Add(c.path)
	}
	f.Fuzz(func(t *testing.T, p string) {
		app, name, kind, id, ok := splitPath(p)
		if !ok {
			return
		}
		back := "/" + strings.Join([]string{app, name, kind}, "/")
		if id != "" {
			back += "/" + id
		}
		if back != p || (kind != "whip" && kind != "whep") {
			t.Fatalf("splitPath(%q) = %q %q %q %q", p, app, name, kind, id)
		}
	})
}
