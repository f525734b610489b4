package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flashvox/flashvox/internal/tlscert"
)

// runCert writes a self-signed certificate and key for testing RTMPS and
// RTMPTS (rtmp.tls_cert, rtmp.tls_key).
func runCert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hosts := fs.String("host", "localhost,127.0.0.1", "comma-separated host names and IP addresses")
	certFile := fs.String("cert", "cert.pem", "certificate file to write")
	keyFile := fs.String("key", "key.pem", "private key file to write")
	days := fs.Int("days", 365, "validity in days")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if *days < 1 {
		fmt.Fprintln(stderr, "flashvox cert: --days must be at least 1")
		return exitConfig
	}
	var list []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			list = append(list, h)
		}
	}
	if err := tlscert.WriteFiles(*certFile, *keyFile, list, time.Duration(*days)*24*time.Hour); err != nil {
		fmt.Fprintf(stderr, "flashvox cert: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "wrote %s and %s for %s (self-signed, for testing)\n", *certFile, *keyFile, strings.Join(list, ", "))
	return 0
}
