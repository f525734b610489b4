package config

import (
	"fmt"
	"strings"
)

// Database selects the store (package store). URL "" = SQLite in
// data_dir; postgres://… or postgresql://… = PostgreSQL (several nodes
// share it); sqlite:PATH = SQLite in another file.
type Database struct {
	URL string `yaml:"url"`
}

// StoreURL is the store's URL: database.url, else the SQLite file in
// data_dir; "" when neither is set (nothing is kept across restarts).
func (c *Config) StoreURL() string {
	switch {
	case c.Database.URL != "":
		return c.Database.URL
	case c.DataDir != "":
		return "sqlite:" + strings.TrimRight(c.DataDir, "/") + "/flashvox.db"
	}
	return ""
}

func (c *Config) validateStore() error {
	u := c.Database.URL
	switch {
	case u == "", strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
	case strings.HasPrefix(u, "sqlite:") && len(u) > len("sqlite:"):
	default:
		return &Error{Key: "database.url", Msg: fmt.Sprintf("must be postgres://…, postgresql://… or sqlite:PATH, got %q", redactURL(u))}
	}
	if c.SIP.RegistrationsFile != "" && c.StoreURL() != "" {
		return &Error{Key: "sip.registrations_file", Msg: "registrations are kept in the store when data_dir or database.url is set; remove sip.registrations_file"}
	}
	return nil
}

// redactURL hides a password in u ("user:xxxxx@").
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	at := strings.LastIndexByte(rest, '@')
	if !ok || at < 0 {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
