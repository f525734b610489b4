package sipbridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Registrations survive a restart (phones believe they are
// registered, calls to them got "offline" for up to an hour): with
// Options.RegistrationsFile set, every change of the bindings (register,
// refresh, unregister, expiry) rewrites the file atomically (a temporary
// file in the same directory, fsync, rename), and Start binds again every
// contact whose expiry has not passed, for the time it has left. The
// phone is not asked anything: its next call or refresh finds it bound.
// Decision: one small JSON file, not a database (the store issue may
// move them); file mode 0600 (contact URIs and source addresses).

// regFile is the file's content.
type regFile struct {
	Version  int          `json:"version"`
	Bindings []regBinding `json:"bindings"`
}

type regBinding struct {
	User      string    `json:"user"`
	URI       string    `json:"uri"`
	Transport string    `json:"transport"`
	Source    string    `json:"source"`
	Expires   time.Time `json:"expires"`
}

const regFileVersion = 1

// saveBindings writes the bindings to Options.RegistrationsFile, if set.
// Writes are serialized and each writes the state of its own moment, so
// the file ends with the latest.
func (b *Bridge) saveBindings() {
	path := b.opts.RegistrationsFile
	if path == "" {
		return
	}
	b.regs.saveMu.Lock()
	defer b.regs.saveMu.Unlock()
	b.regs.mu.Lock()
	if b.regs.loading {
		b.regs.mu.Unlock()
		return
	}
	f := regFile{Version: regFileVersion}
	for _, bd := range b.regs.bindings {
		f.Bindings = append(f.Bindings, regBinding{User: bd.user, URI: bd.uri, Transport: bd.transport, Source: bd.source, Expires: bd.expires.UTC()})
	}
	b.regs.mu.Unlock()
	sort.Slice(f.Bindings, func(i, j int) bool {
		return f.Bindings[i].User+" "+f.Bindings[i].URI < f.Bindings[j].User+" "+f.Bindings[j].URI
	})
	if err := writeFileAtomic(path, &f); err != nil {
		b.log.Warn("sip registrations not saved", "file", path, "err", err)
	}
}

// writeFileAtomic writes v as JSON to path through a temporary file and
// a rename: a crash leaves the old file or the new one, never half.
func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loadBindings binds again the registrations of the file that have not
// expired and whose user still exists; it returns how many.
func (b *Bridge) loadBindings() (int, error) {
	path := b.opts.RegistrationsFile
	if path == "" {
		return 0, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var f regFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if f.Version != regFileVersion {
		return 0, fmt.Errorf("%s: version %d, want %d", path, f.Version, regFileVersion)
	}
	b.regs.mu.Lock()
	b.regs.loading = true
	b.regs.mu.Unlock()
	now := b.opts.Now()
	n := 0
	for _, r := range f.Bindings {
		left := r.Expires.Sub(now)
		max := time.Duration(b.opts.RegisterMaxExpires) * time.Second
		switch {
		case left <= 0 || r.URI == "" || !b.isUser(r.User):
			continue
		case left > max: // the file was edited, or registration_max lowered
			left = max
		}
		if err := b.bind(r.User, r.URI, r.Transport, r.Source, left); err != nil {
			b.log.Warn("sip registration not restored", "user", r.User, "contact", r.URI, "err", err)
			continue
		}
		n++
	}
	b.regs.mu.Lock()
	b.regs.loading = false
	b.regs.mu.Unlock()
	b.saveBindings() // without the expired ones
	return n, nil
}
