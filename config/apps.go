package config

import (
	"fmt"
	"strings"
	"time"
)

// App is one application clients may connect to (rtmp://HOST/NAME). A
// name not listed in apps is refused at connect. The built-in applications
// phone and sip are listed by name alone and follow their own rules; any
// other entry is a live application: plain publish/play by stream name,
// under the publish and play policies.
type App struct {
	Name string `yaml:"name"`
	// Publish and Play: open | token | hook | key | deny; "" = open while
	// every listener is on loopback, refused at start otherwise.
	Publish string `yaml:"publish"`
	Play    string `yaml:"play"`
	// Transcode is who may ask for ?codec=: open | token | off ("" = token).
	Transcode string `yaml:"transcode"`
	// Keys are the per-stream secrets of the key policy: NAME -> SECRET.
	Keys map[string]string `yaml:"keys"`
	// PlayWait is how long a player waits for a name nobody publishes
	// before NetStream.Play.StreamNotFound ends its play; 0 (the default)
	// waits for ever, as Flash Media Server does.
	PlayWait time.Duration `yaml:"play_wait"`
}

// maxPlayWait bounds apps[].play_wait.
const maxPlayWait = 24 * time.Hour

// Built-in application names (phone.Name in apps/phone, siprtmp.Name in apps/siprtmp).
const (
	AppPhone = "phone"
	AppSIP   = "sip"
)

// reservedApps are hub namespaces of streams no live application may
// address: conference rooms ("conf/"), calls ("phone/"), the SIP echo
// ("sipecho/"). A live app named X publishes under "X/".
var reservedApps = map[string]string{
	"conf":    "conference streams",
	"sipecho": "the SIP echo's streams",
}

// Builtin reports whether an app entry is a built-in application.
func (a App) Builtin() bool { return a.Name == AppPhone || a.Name == AppSIP }

// Policies returns the publish and play policies with "" resolved: open
// (validation refused "" unless every listener is on loopback).
func (a App) Policies() (publish, play string) {
	return orDefault(a.Publish, "open"), orDefault(a.Play, "open")
}

// TranscodePolicy returns transcode with "" resolved to token.
func (a App) TranscodePolicy() string { return orDefault(a.Transcode, "token") }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// OpenApps lists the live applications whose publish or play is open to
// anyone (explicitly or by default on loopback), as "NAME (publish, play)",
// for the start-up warning.
func (c *Config) OpenApps() []string {
	var out []string
	for _, a := range c.Apps {
		if a.Builtin() {
			continue
		}
		var what []string
		if pub, _ := a.Policies(); pub == "open" {
			what = append(what, "publish")
		}
		if _, play := a.Policies(); play == "open" {
			what = append(what, "play")
		}
		if a.TranscodePolicy() == "open" {
			what = append(what, "transcode")
		}
		if len(what) > 0 {
			out = append(out, a.Name+" ("+strings.Join(what, ", ")+")")
		}
	}
	return out
}

func (c *Config) validateApps() error {
	seen := map[string]bool{}
	for i, a := range c.Apps {
		key := fmt.Sprintf("apps[%d]", i)
		if err := validAppName(a.Name); err != nil {
			return &Error{Key: key + ".name", Msg: err.Error()}
		}
		if seen[a.Name] {
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("application %q is listed twice", a.Name)}
		}
		seen[a.Name] = true
		if err := oneOf(key+".transcode", a.Transcode, "", "open", "token", "off")(); err != nil {
			return err
		}
		if a.PlayWait < 0 || a.PlayWait > maxPlayWait {
			return &Error{Key: key + ".play_wait", Msg: fmt.Sprintf("must be 0 (wait for ever) to %v, got %v", maxPlayWait, a.PlayWait)}
		}
		if a.Builtin() && a.PlayWait != 0 {
			return &Error{Key: key + ".play_wait", Msg: fmt.Sprintf("%s is a built-in application: its players wait for their issued streams (play_wait is for live applications)", a.Name)}
		}
		if a.Builtin() {
			if a.Publish != "" || a.Play != "" || len(a.Keys) > 0 {
				return &Error{Key: key + ".publish", Msg: fmt.Sprintf("%s is a built-in application with its own rules (docs/PROTOCOL.md): only name and transcode may be set", a.Name)}
			}
			continue
		}
		if err := c.validatePolicy(key, a, "publish", a.Publish, c.Hooks.OnPublish); err != nil {
			return err
		}
		if err := c.validatePolicy(key, a, "play", a.Play, c.Hooks.OnPlay); err != nil {
			return err
		}
		usesKeys := a.Publish == "key" || a.Play == "key"
		if usesKeys && len(a.Keys) == 0 {
			return &Error{Key: key + ".keys", Msg: fmt.Sprintf("%s uses the key policy but has no keys (NAME: SECRET)", a.Name)}
		}
		if !usesKeys && len(a.Keys) > 0 {
			return &Error{Key: key + ".keys", Msg: "keys are used only by the key policy (publish: key or play: key)"}
		}
		for name, secret := range a.Keys {
			switch {
			case name == "" || strings.ContainsAny(name, "?#/\x00"):
				return &Error{Key: key + ".keys", Msg: fmt.Sprintf("stream name %q must be non-empty without ? # /", name)}
			case len(secret) < 8:
				return &Error{Key: key + ".keys." + name, Msg: "a stream key must be at least 8 characters"}
			}
		}
	}
	return nil
}

// validatePolicy checks one of an app's publish/play policies. "" is open
// only while every listener is on loopback, like the demo passwords.
func (c *Config) validatePolicy(key string, a App, what, v, hook string) error {
	k := key + "." + what
	if err := oneOf(k, v, "", "open", "token", "hook", "key", "deny")(); err != nil {
		return err
	}
	switch v {
	case "":
		if lkey, addr, ok := c.Exposed(); ok {
			return &Error{Key: k, Msg: fmt.Sprintf("%s is open to anyone; set open, token, key, hook or deny explicitly before listening on %s (%s)", a.Name, addr, lkey)}
		}
	case "hook":
		if hook == "" {
			return &Error{Key: k, Msg: fmt.Sprintf("the hook policy needs hooks.on_%s", what)}
		}
	}
	return nil
}

// validAppName accepts 1..64 of A-Z a-z 0-9 . _ - that name no reserved
// stream namespace.
func validAppName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("must be 1..64 characters of A-Z a-z 0-9 . _ -, got %q", name)
	}
	for _, r := range name {
		if !(r == '.' || r == '_' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return fmt.Errorf("must be 1..64 characters of A-Z a-z 0-9 . _ -, got %q", name)
		}
	}
	if what, ok := reservedApps[name]; ok {
		return fmt.Errorf("%q is reserved for %s, which only their parties reach", name, what)
	}
	return nil
}
