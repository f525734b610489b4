package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/flashvox/flashvox/internal/tlscert"
)

// TLSFiles are the PEM files of the cluster's TLS: this node's certificate
// (chain) and key, presented on every route, client connection and dial,
// and the CA that signed every node's certificate, the only one trusted.
type TLSFiles struct {
	Cert, Key, CA string
}

// nodeTLS is the loaded TLSFiles: the pair is read again by reload (new
// connections present it; established ones keep theirs), the CA is read
// once (a new CA needs a restart: every node must trust it first).
type nodeTLS struct {
	files TLSFiles
	pair  *tlscert.Reloader
	pool  *x509.CertPool
}

func loadTLS(f TLSFiles) (*nodeTLS, error) {
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("cluster.tls_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster.tls_ca: %s: %w", f.CA, errNoCA)
	}
	t := &nodeTLS{files: f, pool: pool}
	if err := t.check(); err != nil {
		return nil, err
	}
	if t.pair, err = tlscert.NewReloader(f.Cert, f.Key); err != nil {
		return nil, fmt.Errorf("cluster.tls_cert: %w", err)
	}
	return t, nil
}

var (
	errNoCA       = errors.New("no PEM certificate in the file")
	errNotOfTheCA = errors.New("not signed by cluster.tls_ca: the other nodes would refuse it")
)

// check verifies the pair in the files before it is used: a certificate
// of another CA (or expired) would cut this node off the cluster at its
// next route, so it is refused at start and a reload keeps the old one.
func (t *nodeTLS) check() error {
	pair, err := tls.LoadX509KeyPair(t.files.Cert, t.files.Key)
	if err != nil {
		return fmt.Errorf("cluster.tls_cert: %w", err)
	}
	if pair.Leaf == nil { // LoadX509KeyPair fills it since Go 1.23 (unless GODEBUG says otherwise)
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("cluster.tls_cert: %w", err)
		}
	}
	inter := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: t.pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("cluster.tls_cert: %s: %w (%v)", t.files.Cert, errNotOfTheCA, err)
	}
	return nil
}

// reload reads the pair again once it checks out.
func (t *nodeTLS) reload() error {
	if err := t.check(); err != nil {
		return err
	}
	if err := t.pair.Reload(); err != nil {
		return fmt.Errorf("cluster.tls_cert: %w", err)
	}
	return nil
}

// config is mutual TLS against the cluster's CA only, for both ends of a
// connection: nats-server uses one tls.Config to accept routes and (a
// clone) to dial them, so it serves the node's pair as a server and as a
// client, verifies the dialled node's name and chain (RootCAs) and
// requires a chain to the CA from whoever connects (ClientCAs). The system
// roots are never trusted: a public certificate is not a cluster member.
func (t *nodeTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS12,
		GetCertificate:       t.pair.GetCertificate,
		GetClientCertificate: t.pair.GetClientCertificate,
		RootCAs:              t.pool,
		ClientCAs:            t.pool,
		ClientAuth:           tls.RequireAndVerifyClientCert,
	}
}
