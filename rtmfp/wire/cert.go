package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
)

// Option types of endpoint discriminators, certificates and keying
// components (RFC 7425 §4.4, §4.6).
const (
	epdHostname    = 0x00
	EPDAncillary   = 0x0a
	epdFingerprint = 0x0f

	certHostname         = 0x00
	certAcceptsAncillary = 0x0a
	certExtraRandomness  = 0x0e
	certSupportedGroup   = 0x15
	certStaticPublicKey  = 0x1d

	keyPublicKey       = 0x0d
	keyExtraRandomness = 0x0e
	keyGroupSelect     = 0x1d
	keyHMAC            = 0x1a
	keySeq             = 0x1e

	negSendAlways    = 0x04
	negSendOnRequest = 0x02
	negRequire       = 0x01

	maxCertOptions = 32
	identitySize   = 64
)

// Identity is this endpoint's certificate (RFC 7425 §4.3: ephemeral
// Diffie-Hellman, the groups we support and 64 random bytes). Its SHA-256
// is the fingerprint that names the endpoint (Flash's farID / peer ID).
type Identity struct {
	Cert        []byte
	Fingerprint [sha256.Size]byte
	server      bool
}

// NewIdentity makes a certificate from 64 random bytes; server adds the
// "accepts ancillary data" option so URIs select it.
func NewIdentity(random []byte, server bool) *Identity {
	var c []byte
	if server {
		c = AppendOption(c, certAcceptsAncillary, nil)
	}
	for _, g := range dhGroups {
		c = appendOptionVLU(c, certSupportedGroup, g.id)
	}
	c = AppendOption(c, certExtraRandomness, random)
	return &Identity{Cert: c, Fingerprint: sha256.Sum256(c), server: server}
}

// NewRandomIdentity makes an identity that lasts as long as the process.
func NewRandomIdentity(server bool) *Identity {
	r := make([]byte, identitySize)
	_, _ = rand.Read(r)
	return NewIdentity(r, server)
}

// LoadIdentity reads the 64 random bytes from path, creating the file (mode
// 0600) when it does not exist, so the fingerprint survives restarts.
func LoadIdentity(path string, server bool) (*Identity, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b = make([]byte, identitySize)
		_, _ = rand.Read(b)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("rtmfp: identity: %w", err)
		}
		return NewIdentity(b, server), nil
	}
	if err != nil {
		return nil, fmt.Errorf("rtmfp: identity: %w", err)
	}
	if len(b) != identitySize {
		return nil, fmt.Errorf("rtmfp: identity %s: want %d bytes, have %d", path, identitySize, len(b))
	}
	return NewIdentity(b, server), nil
}

// EPD is a parsed endpoint discriminator (RFC 7425 §4.4).
type EPD struct {
	Fingerprint []byte // the wanted fingerprint, or nil
	Ancillary   []byte // usually the rtmfp:// URI, or nil
	Hostname    []byte // required hostname, or nil
}

// Unmarshal decodes an endpoint discriminator; one of its three parts must
// be present.
func (e *EPD) Unmarshal(b []byte) error {
	*e = EPD{}
	opts, _, _, err := parseOptionList(b, maxCertOptions)
	if err != nil {
		return err
	}
	for _, o := range opts {
		v := o.value
		if v == nil {
			v = []byte{}
		}
		switch o.typ {
		case epdFingerprint:
			e.Fingerprint = v
		case EPDAncillary:
			e.Ancillary = v
		case epdHostname:
			e.Hostname = v
		}
	}
	if e.Fingerprint == nil && e.Ancillary == nil && e.Hostname == nil {
		return ErrBadOption
	}
	return nil
}

// AppendTo appends the encoded discriminator.
func (e *EPD) AppendTo(dst []byte) []byte {
	if e.Fingerprint != nil {
		dst = AppendOption(dst, epdFingerprint, e.Fingerprint)
	}
	if e.Ancillary != nil {
		dst = AppendOption(dst, EPDAncillary, e.Ancillary)
	}
	if e.Hostname != nil {
		dst = AppendOption(dst, epdHostname, e.Hostname)
	}
	return dst
}

// Selects reports whether the discriminator names this identity: by
// fingerprint, or by URI when we are a server (we have no hostname).
func (id *Identity) Selects(e *EPD) bool {
	if e.Fingerprint != nil {
		return string(e.Fingerprint) == string(id.Fingerprint[:])
	}
	if e.Hostname != nil {
		return false
	}
	return id.server
}

// PeerCert is a decoded certificate of the far end.
type PeerCert struct {
	raw         []byte
	Fingerprint [sha256.Size]byte
	static      bool              // carries static public keys
	groups      []uint64          // groups it supports (ephemeral) or has keys for
	keys        map[uint64][]byte // static public keys by group
	ancillary   bool
}

// ParsePeerCert decodes a certificate: options up to a marker make the
// canonical part that is hashed into its fingerprint.
func ParsePeerCert(b []byte) (*PeerCert, error) {
	opts, n, _, err := parseOptionList(b, maxCertOptions)
	if err != nil {
		return nil, err
	}
	c := &PeerCert{raw: b, Fingerprint: sha256.Sum256(b[:n])}
	ephemeral := false
	for _, o := range opts {
		switch o.typ {
		case certAcceptsAncillary:
			c.ancillary = true
		case certSupportedGroup:
			g, _, err := ParseVLU(o.value)
			if err != nil {
				return nil, errBadCert
			}
			ephemeral = true
			c.groups = append(c.groups, g)
		case certStaticPublicKey:
			g, l, err := ParseVLU(o.value)
			if err != nil {
				return nil, errBadCert
			}
			c.static = true
			if c.keys == nil {
				c.keys = map[uint64][]byte{}
			}
			c.keys[g] = o.value[l:]
			c.groups = append(c.groups, g)
		}
	}
	if c.static == ephemeral {
		return nil, errBadCert
	}
	return c, nil
}

func (c *PeerCert) supports(g uint64) bool {
	for _, x := range c.groups {
		if x == g {
			return true
		}
	}
	return false
}
