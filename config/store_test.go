package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreKeys(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || c.StoreURL() != "" {
		t.Fatalf("default: no store, got %q %v", c.StoreURL(), err)
	}
	c, err = Load("", []string{"FLASHVOX_DATA_DIR=/var/lib/flashvox/"})
	if err != nil || c.DataDir != "/var/lib/flashvox/" || c.StoreURL() != "sqlite:/var/lib/flashvox/flashvox.db" {
		t.Fatalf("data_dir: %q %v", c.StoreURL(), err)
	}
	pg := "postgres://fv:pw@db:5432/flashvox"
	c, err = Load("", []string{"FLASHVOX_DATA_DIR=/d", "FLASHVOX_DATABASE_URL=" + pg})
	if err != nil || c.StoreURL() != pg {
		t.Fatalf("database.url wins: %q %v", c.StoreURL(), err)
	}
	for _, tc := range []struct {
		env  []string
		file string
		key  string
	}{
		{[]string{"FLASHVOX_DATABASE_URL=mysql://u:hunter2@h/db"}, "", "database.url"},
		{[]string{"FLASHVOX_DATABASE_URL=sqlite:"}, "", "database.url"},
		{[]string{"FLASHVOX_DATA_DIR=/d", "FLASHVOX_SIP_REGISTRATIONS_FILE=/d/r.json"}, "", "sip.registrations_file"},
		{nil, "users: [{name: root, password: root, role: root}]\n", "users[0].role"},
	} {
		path := ""
		if tc.file != "" {
			path = filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(path, tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v %q: got %v, want an error on %s", tc.env, tc.file, err, tc.key)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
