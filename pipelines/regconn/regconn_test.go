package regconn

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// tlsServer is a TLS server with a certificate no system root trusts,
// and that certificate as PEM: a registry with a company CA.
func tlsServer(t *testing.T) (*httptest.Server, []byte) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(srv.Close)
	return srv, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestTransportTrustsTheCA(t *testing.T) {
	srv, ca := tlsServer(t)
	base := http.DefaultTransport.(*http.Transport)
	if _, err := (&http.Client{Transport: base}).Get(srv.URL); err == nil {
		t.Fatal("the test server is trusted without its CA")
	}
	tr, err := Options{CA: ca}.Transport(base)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with --registry-ca: %v", err)
	}
	resp.Body.Close()
	if base.TLSClientConfig != nil && base.TLSClientConfig.RootCAs != nil {
		t.Error("the shared default transport was modified")
	}
	if same, _ := (Options{}).Transport(base); same != base {
		t.Error("no CA should leave the transport as it is")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{CA: []byte("not a certificate")}, "registry-ca: no PEM certificate"},
		{Options{Insecure: []string{"http://registry.internal"}}, `insecure-registry "http://registry.internal": give a registry host`},
		{Options{Insecure: []string{"registry.internal/team"}}, "no scheme, path or credentials"},
		{Options{Insecure: []string{"u:p@registry.internal"}}, "no scheme, path or credentials"},
	} {
		if err := c.o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
	_, ca := tlsServer(t)
	o := Options{CA: ca, Insecure: []string{"Registry.Internal:5000"}}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if !o.IsInsecure("registry.internal:5000") || o.IsInsecure("registry.internal") {
		t.Error("IsInsecure matches host:port exactly, case-insensitively")
	}
}
