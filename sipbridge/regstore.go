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
// Options.Registrations (the store: SQLite or PostgreSQL) or
// Options.RegistrationsFile set, every change of the bindings (register,
// refresh, unregister, expiry) hands the whole table to it, and Start
// binds again every contact whose expiry has not passed, for the time it
// has left. The phone is not asked anything: its next call or refresh
// finds it bound. The file (no store configured) is one small JSON file
// rewritten atomically, mode 0600 (contact URIs and source addresses).

// Registration is one binding as a RegistrationStore keeps it.
type Registration struct {
	User, URI, Transport, Source string
	Expires                      time.Time
}

// RegistrationStore keeps the bindings across restarts: Save gets the
// whole table at each change, Load returns what was saved last (expired
// entries included: Start drops them).
type RegistrationStore interface {
	SaveRegistrations([]Registration) error
	LoadRegistrations() ([]Registration, error)
}

// registrationStore is o's store: Registrations, else the file, else nil.
func (o *Options) registrationStore() RegistrationStore {
	if o.Registrations != nil {
		return o.Registrations
	}
	if o.RegistrationsFile != "" {
		return registrationsFile(o.RegistrationsFile)
	}
	return nil
}

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

// saveBindings hands the bindings to the registration store, if any.
// Saves are serialized and each hands over the state of its own moment, so
// the store ends with the latest.
func (b *Bridge) saveBindings() {
	st := b.regStore
	if st == nil {
		return
	}
	b.regs.saveMu.Lock()
	defer b.regs.saveMu.Unlock()
	b.regs.mu.Lock()
	if b.regs.loading {
		b.regs.mu.Unlock()
		return
	}
	var rs []Registration
	for _, bd := range b.regs.bindings {
		rs = append(rs, Registration{User: bd.user, URI: bd.uri, Transport: bd.transport, Source: bd.source, Expires: bd.expires.UTC()})
	}
	b.regs.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].User+" "+rs[i].URI < rs[j].User+" "+rs[j].URI })
	if err := st.SaveRegistrations(rs); err != nil {
		b.log.Warn("sip registrations not saved", "err", err)
	}
}

// registrationsFile keeps the bindings in a JSON file.
type registrationsFile string

// SaveRegistrations rewrites the file atomically.
func (path registrationsFile) SaveRegistrations(rs []Registration) error {
	f := regFile{Version: regFileVersion}
	for _, r := range rs {
		f.Bindings = append(f.Bindings, regBinding(r))
	}
	return writeFileAtomic(string(path), &f)
}

// LoadRegistrations reads the file; a missing one holds nothing.
func (path registrationsFile) LoadRegistrations() ([]Registration, error) {
	data, err := os.ReadFile(string(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f regFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Version != regFileVersion {
		return nil, fmt.Errorf("%s: version %d, want %d", path, f.Version, regFileVersion)
	}
	rs := make([]Registration, 0, len(f.Bindings))
	for _, bd := range f.Bindings {
		rs = append(rs, Registration(bd))
	}
	return rs, nil
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

// loadBindings binds again the saved registrations that have not expired
// and whose user still exists; it returns how many.
func (b *Bridge) loadBindings() (int, error) {
	if b.regStore == nil {
		return 0, nil
	}
	saved, err := b.regStore.LoadRegistrations()
	if err != nil {
		return 0, err
	}
	b.regs.mu.Lock()
	b.regs.loading = true
	b.regs.mu.Unlock()
	now := b.opts.Now()
	n := 0
	for _, r := range saved {
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
