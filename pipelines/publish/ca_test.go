package publish

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/tags"
)

// A registry with a private CA: reached with --registry-ca, refused
// without it (never silently over plain HTTP).
func TestPublisherTrustsTheRegistryCA(t *testing.T) {
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	repo := u.Host + "/acme/app"
	ts := []tags.Tag{{Name: "1.0.0"}}
	if _, err := (&Publisher{Auth: &Auth{}}).Inspect(t.Context(), []string{repo}, ts); err == nil {
		t.Fatal("a registry with an untrusted certificate was reached")
	}
	st, err := (&Publisher{Auth: &Auth{}, CA: ca}).Inspect(t.Context(), []string{repo}, ts)
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if st[repo]["1.0.0"] != "" {
		t.Errorf("state %v", st)
	}
	if err := (ShipOptions{CA: []byte("garbage")}).Validate(); err == nil || !strings.Contains(err.Error(), "registry-ca") {
		t.Errorf("bad CA: %v", err)
	}
}

// ship takes credentials for several registries as HOST=USER paired with
// secrets, not only for the first --image.
func TestPairAuth(t *testing.T) {
	client, _ := daggertest.New(t)
	a, b := client.Secret("env://A"), client.Secret("env://B")
	got, err := PairAuth([]string{"quay.io=robot+ci", "Registry.Internal:5000=bot"}, []*dagger.Secret{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Registry != "quay.io" || got[0].Username != "robot+ci" || got[0].Secret != a ||
		got[1].Registry != "registry.internal:5000" || got[1].Secret != b {
		t.Errorf("%+v", got)
	}
	for _, c := range []struct {
		hosts   []string
		secrets []*dagger.Secret
		want    string
	}{
		{[]string{"quay.io=robot"}, nil, "1 hosts but 0 secrets"},
		{[]string{"quay.io"}, []*dagger.Secret{a}, `--registry-auth "quay.io": want HOST=USER`},
		{[]string{"quay.io=a", "QUAY.io=b"}, []*dagger.Secret{a, b}, "quay.io is given twice"},
		{[]string{"https://quay.io=a"}, []*dagger.Secret{a}, `--registry-auth "https://quay.io=a"`},
		{[]string{"public.ecr.aws=ci"}, []*dagger.Secret{a}, `--registry-auth "public.ecr.aws=ci": registry public.ecr.aws is Amazon ECR Public, which takes the username "AWS", not "ci"`},
	} {
		if _, err := PairAuth(c.hosts, c.secrets); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v", c.hosts, err)
		}
	}
	// resolved with the --image shorthand: both registries get their own
	res, err := AuthArgs{Repos: []string{"ghcr.io/acme/app"}, Username: "u", Password: client.Secret("env://G"), Chained: got}.Resolve()
	if err != nil || len(res) != 3 {
		t.Errorf("%d credentials, %v", len(res), err)
	}
}
