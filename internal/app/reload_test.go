package app

import (
	"errors"
	"reflect"
	"testing"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
)

func TestDiffUsers(t *testing.T) {
	old := []config.User{{Name: "alice", Password: "a"}, {Name: "bob", Password: "b"}, {Name: "carol", Password: "c", Disabled: true}, {Name: "dave", PasswordHash: "h"}}
	next := []config.User{{Name: "alice", Password: "a2"}, {Name: "bob", Password: "b", Disabled: true}, {Name: "carol", Password: "c"}, {Name: "erin", Password: "e"}}
	got := map[string]userChange{}
	for _, c := range diffUsers(old, next) {
		got[c.name] = c
	}
	want := map[string]userChange{
		"alice": {name: "alice", password: true},
		"bob":   {name: "bob", disabled: true},
		"carol": {name: "carol", enabled: true},
		"dave":  {name: "dave", disabled: true}, // removed from the list
		"erin":  {name: "erin", added: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff\n got %+v\nwant %+v", got, want)
	}
	if d := diffUsers(next, next); len(d) != 0 {
		t.Errorf("no change, but %+v", d)
	}
}

// TestConfigDirectoryReload: without a store a reload's list is the
// accounts at once: a new user signs in, a removed one cannot, a disabled
// one's token stops working.
func TestConfigDirectoryReload(t *testing.T) {
	dir := &configDirectory{}
	dir.set([]config.User{{Name: "alice", Password: "alice"}, {Name: "bob", Password: "bob"}})
	auth := account.NewAuth(account.AuthOptions{Directory: dir})
	bobTok, _, err := auth.Login("bob", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := auth.Login("carol", "carol"); err == nil {
		t.Fatal("carol signed in before she was added")
	}
	dir.set([]config.User{{Name: "bob", Password: "bob", Disabled: true}, {Name: "carol", Password: "carol"}})
	if _, _, err := auth.Login("carol", "carol"); err != nil {
		t.Errorf("carol after the reload: %v", err)
	}
	if _, _, err := auth.Login("alice", "alice"); err == nil {
		t.Error("alice, removed, signed in")
	}
	if _, err := auth.Verify(bobTok); err == nil {
		t.Error("disabled bob's token still works")
	}
	if _, err := dir.Account("zed"); !errors.Is(err, account.ErrNoAccount) {
		t.Errorf("unknown user: %v", err)
	}
}
