package bridge

import (
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
)

func TestBuildSecretIDReadsTheNameEachProviderCarries(t *testing.T) {
	for uri, want := range map[string]string{
		"env://NPM_TOKEN":                      "NPM_TOKEN",
		"file:///run/keys/npm_token":           "npm_token",
		"file://./secrets/pip.conf":            "pip.conf",
		"op://ci/npm/credential":               "credential",
		"op://ci/npm/credential?ttl=10m":       "credential",
		"vault://secret/data/ci/npm.token":     "token",
		"cmd://pass show ci/npm #NPM_TOKEN":    "NPM_TOKEN",
		"cmd://printf %s \"$X\" #APP_TOKEN   ": "APP_TOKEN",
	} {
		got, err := BuildSecretID(uri)
		if err != nil || got != want {
			t.Errorf("BuildSecretID(%q) = %q, %v; want %q", uri, got, err, want)
		}
	}
}

func TestBuildSecretIDRefusesWhatADockerfileCannotName(t *testing.T) {
	for uri, want := range map[string]string{
		"cmd://pass show ci/npm-sentinel-token": "end the command with a shell comment naming it",
		"env:NPM_TOKEN":                         "not a secret URI",
		"cmd://echo hi #no way":                 "is not a usable Dockerfile secret id",
	} {
		_, err := BuildSecretID(uri)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("BuildSecretID(%q): %v, want %q", uri, err, want)
		}
		// a command may carry a credential: an error never repeats it
		if err != nil && strings.HasPrefix(uri, "cmd://") && strings.Contains(err.Error(), "pass show ci/npm-sentinel-token") {
			t.Errorf("error repeats the command: %v", err)
		}
	}
}

func TestQueryBuildSecretsNamesURISecretsAndKeepsNamedOnes(t *testing.T) {
	client, conn := daggertest.New(t,
		daggertest.On("name", ""),
		daggertest.On("uri", "env://APP_TOKEN"),
		daggertest.On("plaintext", "s3cret"),
	)
	got, err := BuildSecrets(t.Context(), client, []*dagger.Secret{client.Secret("env://APP_TOKEN"), nil})
	if err != nil || len(got) != 1 {
		t.Fatalf("BuildSecrets: %v %v", got, err)
	}
	if _, err := got[0].ID(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `setSecret(name:"APP_TOKEN"`)

	named, conn := daggertest.New(t, daggertest.On("name", "APP_TOKEN"))
	got, err = BuildSecrets(t.Context(), named, []*dagger.Secret{named.SetSecret("APP_TOKEN", "x")})
	if err != nil || len(got) != 1 {
		t.Fatalf("named: %v %v", got, err)
	}
	conn.AssertNotQueried(t, "{plaintext}")

	two, _ := daggertest.New(t, daggertest.On("name", ""), daggertest.On("uri", "env://APP_TOKEN"), daggertest.On("plaintext", "v"))
	_, err = BuildSecrets(t.Context(), two, []*dagger.Secret{two.Secret("env://APP_TOKEN"), two.Secret("file:///x/APP_TOKEN")})
	if err == nil || !strings.Contains(err.Error(), "both have the id APP_TOKEN") {
		t.Errorf("duplicate ids: %v", err)
	}
}
