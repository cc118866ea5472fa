package publish

import (
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/tags"
)

const shipCommit = "89abcdef0123456789abcdef0123456789abcdef"

// TestQueryShipReleaseRefArgsToARealRegistry: a tag pipeline names the
// release by argument (a module sees no CI env); the engine push is
// recorded, the tagging runs against a real registry needing a token.
func TestQueryShipReleaseRefArgsToARealRegistry(t *testing.T) {
	host, _ := authedRegistry(t, moduleToken)
	digest := pushAuthed(t, host, "org/app", moduleToken)
	client, conn := daggertest.New(t, platformAnswer,
		daggertest.On("plaintext", moduleToken),
		daggertest.On("publish", host+"/org/app:2.0.0@"+digest))
	img, err := Ship(t.Context(), client, variants(client), ShipOptions{
		Repos:       []string{host + "/org/app"},
		RefArgs:     tags.Args{GitRef: "refs/tags/v2.0.0"},
		Git:         gitmeta.Info{Commit: shipCommit, Branch: "main", Tags: []string{"v1.9.0"}},
		Auth:        []RegistryAuth{{Registry: host, Username: "bot", Secret: client.Secret("env://REGISTRY_TOKEN"), Source: "--registry-password"}},
		Annotations: map[string]string{},
		Retry:       fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if img.Ephemeral || img.Digest != digest || img.Ref != host+"/org/app@"+digest {
		t.Errorf("image %+v", img)
	}
	want := map[string]bool{}
	for _, tg := range []string{"2.0.0", "2.0", "2", "latest", "sha-89abcde"} {
		want[host+"/org/app:"+tg] = true
		if got := headAuthed(t, host, "org/app", tg, moduleToken); got != digest {
			t.Errorf("%s at %q", tg, got)
		}
	}
	if len(img.Tags) != len(want) {
		t.Errorf("tags %v", img.Tags)
	}
	for _, r := range img.Tags {
		if !want[r] {
			t.Errorf("unexpected tag %s (a branch push must not make a branch tag on a tag ref)", r)
		}
	}
	if strings.Join(img.Platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v", img.Platforms)
	}
	conn.AssertNotQueried(t, moduleToken)
	conn.AssertNotQueried(t, "label(")
	conn.AssertNotQueried(t, "asService")
}

func TestQueryShipUsesTheCallersEmbeddedRegistry(t *testing.T) {
	emb, _ := newRegistry(t)
	src := pushIndex(t, emb, "paved/hello", randomIndex(t))
	digest := src[strings.Index(src, "@")+1:]
	client, conn := daggertest.New(t, platformAnswer,
		daggertest.On("publish", "localhost:5000/paved/hello:sha-89abcde@"+digest))
	reg := &Embedded{Service: client.Container().From("registry:3").AsService(), Address: "localhost:5000", Endpoint: emb}
	img, err := Ship(t.Context(), client, variants(client), ShipOptions{
		Git:         gitmeta.Info{Commit: shipCommit, RemoteURL: "git@github.com:acme/Hello.git"},
		Annotations: map[string]string{},
		Embedded:    reg,
		Retry:       fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertNotQueried(t, "start")
	conn.AssertQueried(t, `publish(address:"localhost:5000/paved-staging/hello:sha-89abcde"`, `registryService:"id`)
	if !img.Ephemeral || img.Ref != "localhost:5000/paved/hello@"+digest || len(img.Tags) != 1 || img.Tags[0] != "localhost:5000/paved/hello:sha-89abcde" {
		t.Errorf("image %+v", img)
	}
	if got := digestOf(t, emb, "paved/hello", "sha-89abcde"); got != digest {
		t.Errorf("sha tag at %q", got)
	}
}

func TestQueryShipRefusesBadInputBeforeAnyPush(t *testing.T) {
	client, conn := daggertest.New(t)
	if _, err := Ship(t.Context(), client, nil, ShipOptions{Git: gitmeta.Info{Commit: shipCommit}}); err == nil || !strings.Contains(err.Error(), "no platform variants") {
		t.Errorf("no variants: %v", err)
	}
	_, err := Ship(t.Context(), client, variants(client), ShipOptions{Git: gitmeta.Info{Commit: shipCommit}, RefArgs: tags.Args{PullRequest: "abc"}, Images: images.MustDefault()})
	if err == nil || !strings.Contains(err.Error(), "pr-number") {
		t.Errorf("bad pr number: %v", err)
	}
	_, err = Ship(t.Context(), client, variants(client), ShipOptions{Git: gitmeta.Info{Commit: shipCommit}, Repos: []string{"app"}, Annotations: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "no registry host") {
		t.Errorf("repository without host: %v", err)
	}
	conn.AssertNotQueried(t, "publish(")
	conn.AssertNotQueried(t, "asService")
}

func TestRepoName(t *testing.T) {
	for _, c := range []struct{ explicit, remote, want string }{
		{"", "https://github.com/acme/Hello.git", "hello"},
		{"", "git@gitlab.example.com:team/sub/api-server.git", "api-server"},
		{"", "https://github.com/acme/hello/", "hello"},
		{"Web UI", "https://github.com/acme/hello", "web-ui"},
		{"", "", "app"},
		{"", "https://example.com/%%%", "app"},
	} {
		if got := repoName(c.explicit, c.remote); got != c.want {
			t.Errorf("repoName(%q, %q) = %q, want %q", c.explicit, c.remote, got, c.want)
		}
	}
}
