package config

import (
	"fmt"
	"net/url"
	"time"
)

// Hooks are nginx-rtmp style HTTP hooks: flashvox POSTs a form to the URL
// before a connect, publish or play of any application; a non-2xx answer
// refuses it (package hooks, docs/PROTOCOL.md "Hooks"). "" turns one off.
type Hooks struct {
	OnConnect string `yaml:"on_connect"`
	OnPublish string `yaml:"on_publish"`
	OnPlay    string `yaml:"on_play"`
	// Timeout bounds each hook request; a hook that does not answer in time refuses.
	Timeout time.Duration `yaml:"timeout"`
}

func (c *Config) validateHooks() error {
	h := c.Hooks
	for _, check := range []func() error{
		hookURL("hooks.on_connect", h.OnConnect),
		hookURL("hooks.on_publish", h.OnPublish),
		hookURL("hooks.on_play", h.OnPlay),
		durRange("hooks.timeout", h.Timeout, 100*time.Millisecond, 30*time.Second),
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// hookURL accepts "" (off) or an absolute http(s) URL with a host.
func hookURL(key, v string) func() error {
	return func() error {
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: key, Msg: fmt.Sprintf("must be an http:// or https:// URL, got %q", v)}
		}
		return nil
	}
}
