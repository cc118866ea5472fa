package bridge

import (
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
)

// These check the queries the conversions send; no engine.

func TestQueryOptionalSecretsAndFilesKeepTheirPlaces(t *testing.T) {
	client, conn := daggertest.New(t)
	key := client.Secret("env://COSIGN_KEY")
	got, err := Secrets(t.Context(), client, nil, key, (*dagger.Secret)(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != nil || got[1] == nil || got[2] != nil {
		t.Fatalf("secrets %v", got)
	}
	conn.AssertQueried(t, `secret(uri:"env://COSIGN_KEY"){id}`)
	files, err := Files(t.Context(), client, (*dagger.File)(nil))
	if err != nil || len(files) != 1 || files[0] != nil {
		t.Errorf("files %v %v", files, err)
	}
}

func TestQueryImageSetReadsTheImagesFile(t *testing.T) {
	client, _ := daggertest.New(t, daggertest.On("contents", ` {"trivy": "mirror.example.com/trivy:0.74.0"} `))
	f := client.Directory().File("images.json")
	s, err := ImageSet(t.Context(), client, []string{"go=mirror.example.com/golang:1.26"}, "", f)
	if err != nil {
		t.Fatal(err)
	}
	if s.Ref(images.Trivy) != "mirror.example.com/trivy:0.74.0" || s.Ref(images.Go) != "mirror.example.com/golang:1.26" {
		t.Errorf("images %v", s.All())
	}
	s, err = ImageSet(t.Context(), client, nil, "", (*dagger.File)(nil))
	if err != nil || s.Ref(images.Go) != images.MustDefault().Ref(images.Go) {
		t.Errorf("no file: %v %v", s, err)
	}
	client, _ = daggertest.New(t, daggertest.On("contents", `["go"]`))
	_, err = ImageSet(t.Context(), client, nil, "", client.Directory().File("images.json"))
	if err == nil || !strings.Contains(err.Error(), "images file images-file") {
		t.Errorf("bad file: %v", err)
	}
}

func TestQueryGoModulesChecksSettingsAndKeepsTheNetrcASecret(t *testing.T) {
	client, conn := daggertest.New(t)
	env, netrc, err := GoModules(t.Context(), client, "https://goproxy.example.com", "github.com/acme/*", "", client.Secret("env://NETRC"))
	if err != nil || netrc == nil || len(env) != 2 || env["GOPRIVATE"] != "github.com/acme/*" {
		t.Fatalf("env %v netrc %v err %v", env, netrc, err)
	}
	conn.AssertQueried(t, `secret(uri:"env://NETRC"){id}`)
	if _, n, err := GoModules(t.Context(), client, "", "", "", (*dagger.Secret)(nil)); err != nil || n != nil {
		t.Errorf("no netrc: %v %v", n, err)
	}
	if _, _, err := GoModules(t.Context(), client, "https://u:sentinel@proxy.example.com", "", "", (*dagger.Secret)(nil)); err == nil ||
		!strings.Contains(err.Error(), "netrc") || strings.Contains(err.Error(), "sentinel") {
		t.Errorf("credentials in the proxy URL: %v", err)
	}
}
