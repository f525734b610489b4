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
	pair *tlscert.Reloader
	pool *x509.CertPool
}

func loadTLS(f TLSFiles) (*nodeTLS, error) {
	pair, err := tlscert.NewReloader(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("cluster.tls_cert: %w", err)
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, fmt.Errorf("cluster.tls_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster.tls_ca: %s: %w", f.CA, errNoCA)
	}
	return &nodeTLS{pair: pair, pool: pool}, nil
}

var errNoCA = errors.New("no PEM certificate in the file")

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
