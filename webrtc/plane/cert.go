package plane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// newCertificate makes the plane's DTLS certificate: self-signed ECDSA
// P-256, as browsers make theirs (what authenticates it is the SDP
// fingerprint, not a CA), valid a month either side of now. It returns
// the SHA-256 of its DER too.
func newCertificate() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("plane: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("plane: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "flashvox"},
		NotBefore:    now.Add(-30 * 24 * time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("plane: certificate: %w", err)
	}
	fp := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, fp[:], nil
}

// hexColons writes b as SDP fingerprints are: upper-case hex pairs
// joined by colons (RFC 8122 §5).
func hexColons(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{x}))
	}
	return strings.Join(parts, ":")
}

// ParseFingerprint reads an SDP a=fingerprint value; only sha-256 is
// taken.
func ParseFingerprint(v string) ([]byte, error) {
	alg, val, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(alg, "sha-256") {
		return nil, fmt.Errorf("plane: fingerprint %q: want sha-256", v)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(val), ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("plane: fingerprint %q: not 32 hex pairs", v)
	}
	return b, nil
}
