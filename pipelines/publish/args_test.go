package publish

import (
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/daggertest"
)

func TestAuthArgsResolve(t *testing.T) {
	client, _ := daggertest.New(t)
	tok := client.Secret("env://GHCR_TOKEN")
	other := client.Secret("env://OTHER")

	got, err := AuthArgs{
		Repos: []string{"ghcr.io/acme/hello", "docker.io/acme/hello"}, Username: "acme-bot", Password: tok,
		Chained: []RegistryAuth{
			{Registry: "https://index.docker.io/v1/", Username: "hub", Secret: other},
			{Registry: "ghcr.io", Username: "old", Secret: other},
		},
	}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%+v", got)
	}
	if got[0].Registry != "index.docker.io" || got[0].Username != "hub" || got[0].Source != "with-registry-auth --address index.docker.io" {
		t.Errorf("chained: %+v", got[0])
	}
	if got[1].Registry != "ghcr.io" || got[1].Username != "acme-bot" || got[1].Secret != tok || got[1].Source != "--registry-password" {
		t.Errorf("shorthand must replace the chained ghcr.io credential: %+v", got[1])
	}
	if ecr, err := (AuthArgs{Repos: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"}, Username: "AWS", Password: tok}).Resolve(); err != nil || len(ecr) != 1 {
		t.Errorf("ECR with AWS: %v %v", ecr, err)
	}
	if none, err := (AuthArgs{}).Resolve(); err != nil || len(none) != 0 {
		t.Errorf("no args: %v %v", none, err)
	}

	for _, c := range []struct {
		a    AuthArgs
		want string
	}{
		{AuthArgs{Repos: []string{"ghcr.io/a/b"}, Username: "u"}, "go together"},
		{AuthArgs{Repos: []string{"ghcr.io/a/b"}, Password: tok}, "go together"},
		{AuthArgs{Username: "u", Password: tok}, "no --image"},
		{AuthArgs{Repos: []string{"hello"}, Username: "u", Password: tok}, "no registry host"},
		{AuthArgs{Chained: []RegistryAuth{{Registry: "ghcr.io", Secret: tok}}}, "--username is empty"},
		{AuthArgs{Chained: []RegistryAuth{{Registry: "ghcr.io", Username: "u"}}}, "--secret is missing"},
		{AuthArgs{Chained: []RegistryAuth{{Registry: "", Username: "u", Secret: tok}}}, "with-registry-auth --address"},
		// A username the registry refuses anyway is caught before the build.
		{AuthArgs{Repos: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"}, Username: "admin", Password: tok},
			`--registry-username admin: registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com is Amazon ECR, which takes the username "AWS"`},
		{AuthArgs{Chained: []RegistryAuth{{Registry: "europe-west1-docker.pkg.dev", Username: "ci", Secret: tok}}},
			`with-registry-auth --address europe-west1-docker.pkg.dev --username ci: registry europe-west1-docker.pkg.dev is Google Artifact Registry, which takes the username "oauth2accesstoken"`},
		{AuthArgs{Repos: []string{"dkr.ecr.eu-west-1.amazonaws.com/app"}, Username: "AWS", Password: tok}, "write it as ACCOUNT.dkr.ecr.REGION.amazonaws.com"},
	} {
		_, err := c.a.Resolve()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.a, err, c.want)
		}
	}
}

func TestQueryDockerHubCredentialUsesTheEnginesHostName(t *testing.T) {
	client, conn := daggertest.New(t, daggertest.On("publish", "docker.io/acme/hello:x@sha256:"+strings.Repeat("c", 64)))
	_, err := PushVariants(t.Context(), client, variants(client), "index.docker.io/acme/hello:x",
		[]RegistryAuth{{Registry: "index.docker.io", Username: "hub", Secret: client.Secret("env://HUB")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `withRegistryAuth(address:"docker.io"`)
}
