package regauth

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := map[string]string{
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com":      "ecr",
		"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com": "ecr",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":  "ecr",
		"123456789012.dkr-ecr.eu-west-1.on.aws":             "ecr",
		"public.ecr.aws":                                    "ecr-public",
		"europe-west1-docker.pkg.dev":                       "gar",
		"us-docker.pkg.dev":                                 "gar",
		"eu.gcr.io":                                         "gar",
		"gcr.io":                                            "gar",
		"acmeprod.azurecr.io":                               "acr",
		"ACMEPROD.AZURECR.IO:443":                           "acr",
		"ghcr.io":                                           "ghcr",
		"registry.gitlab.com":                               "gitlab",
		"index.docker.io":                                   "dockerhub",
		"acme.jfrog.io":                                     "artifactory",
		"nexus.example.com:8443":                            "",
		"registry.example.com":                              "",
		"127.0.0.1:5000":                                    "",
		"ghcr.io.evil.example":                              "",
		"123456789012.dkr.ecr.x.amazonaws.com.evil.example": "",
	}
	for host, want := range cases {
		p, ok := Detect(host)
		if p.ID != want || ok != (want != "") {
			t.Errorf("Detect(%q) = %q %v, want %q", host, p.ID, ok, want)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	cases := []struct {
		host, user string
		want       []string // substrings of the error; none means accepted
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "AWS", nil},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "admin", []string{
			"registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com is Amazon ECR", `username "AWS", not "admin"`, "aws ecr get-login-password", "12 h"}},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "aws", []string{`not "aws"`}},
		{"public.ecr.aws", "ci", []string{"Amazon ECR Public", "ecr-public get-login-password"}},
		{"europe-west1-docker.pkg.dev", "oauth2accesstoken", nil},
		{"europe-west1-docker.pkg.dev", "_json_key", nil},
		{"gcr.io", "_dcgcloud_token", nil},
		{"europe-west1-docker.pkg.dev", "ci@acme.iam.gserviceaccount.com", []string{`takes the username "oauth2accesstoken"`, "print-access-token"}},
		// Not strict: service principals and scoped tokens use other names.
		{"acmeprod.azurecr.io", "3f1c2a9e-0000-4000-8000-000000000001", nil},
		{"ghcr.io", "octocat", nil},
		{"registry.gitlab.com", "gitlab+deploy-token-7", nil},
		{"registry.example.com", "anyone", nil},
		// Near misses are refused with the host shape.
		{"dkr.ecr.eu-west-1.amazonaws.com", "AWS", []string{"looks like Amazon ECR", "ACCOUNT.dkr.ecr.REGION.amazonaws.com"}},
		{"docker.pkg.dev", "oauth2accesstoken", []string{"looks like Google Artifact Registry", "LOCATION-docker.pkg.dev"}},
		{"acme-prod.azurecr.io", nullGUID, []string{"looks like Azure Container Registry", "REGISTRY.azurecr.io"}},
	}
	for _, c := range cases {
		err := CheckUsername(c.host, c.user)
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("CheckUsername(%q, %q) = %v, want accepted", c.host, c.user, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckUsername(%q, %q) accepted, want %q", c.host, c.user, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckUsername(%q, %q) = %v, want %q in it", c.host, c.user, err, w)
			}
		}
	}
}

func TestHint(t *testing.T) {
	if h := Hint("registry.example.com"); h != "" {
		t.Errorf("unknown registry hint %q", h)
	}
	h := Hint("acmeprod.azurecr.io")
	for _, w := range []string{"Azure Container Registry wants the username " + nullGUID, "--expose-token", "valid 3 h", "mint it in the job"} {
		if !strings.Contains(h, w) {
			t.Errorf("ACR hint %q lacks %q", h, w)
		}
	}
	// A stored token is not minted per job: the hint must not say so.
	if h := Hint("index.docker.io"); !strings.Contains(h, "access token") || strings.Contains(h, "mint it") {
		t.Errorf("Docker Hub hint %q", h)
	}
	// Every provider documents what the docs table shows.
	for _, p := range Providers {
		if p.ID == "" || p.Name == "" || p.Token == "" || p.Lifetime == "" || p.Pattern == "" || p.match == nil {
			t.Errorf("provider %+v is incomplete", p)
		}
		if p.Strict && len(p.Usernames) == 0 {
			t.Errorf("provider %s is strict without usernames", p.ID)
		}
	}
}
