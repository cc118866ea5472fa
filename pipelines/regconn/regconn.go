// Package regconn is how paved's Go code reaches registries a company runs:
// a private CA trusted besides the system roots, and hosts that speak plain
// HTTP only when a user lists them. Engine-free; publish and sign use it.
package regconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Options say how to reach registries beyond the defaults.
type Options struct {
	// CA is a PEM bundle trusted in addition to the system roots
	// (--registry-ca).
	CA []byte
	// Insecure lists registry hosts (host or host:port) spoken to over
	// plain HTTP (--insecure-registry). Loopback and RFC 1918 addresses
	// already are; anything else is TLS unless listed.
	Insecure []string
}

// Validate checks the CA bundle parses and each insecure entry is a host.
func (o Options) Validate() error {
	if len(o.CA) > 0 {
		if _, err := o.pool(); err != nil {
			return err
		}
	}
	for _, h := range o.Insecure {
		h = strings.TrimSpace(h)
		if h == "" || strings.ContainsAny(h, "/@ ") || strings.Contains(h, "://") {
			return fmt.Errorf("insecure-registry %q: give a registry host such as registry.internal:5000 (no scheme, path or credentials)", h)
		}
	}
	return nil
}

func (o Options) pool() (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(o.CA) {
		return nil, errors.New("registry-ca: no PEM certificate in the file (want the CA's certificate, -----BEGIN CERTIFICATE-----)")
	}
	return pool, nil
}

// Transport returns base with the CA trusted; base unchanged when no CA
// is given. base is cloned, never modified.
func (o Options) Transport(base *http.Transport) (*http.Transport, error) {
	if len(o.CA) == 0 {
		return base, nil
	}
	pool, err := o.pool()
	if err != nil {
		return nil, err
	}
	t := base.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = pool
	return t, nil
}

// IsInsecure reports whether host was listed (case-insensitive).
func (o Options) IsInsecure(host string) bool {
	for _, h := range o.Insecure {
		if strings.EqualFold(strings.TrimSpace(h), host) {
			return true
		}
	}
	return false
}
