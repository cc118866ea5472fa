package templates

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/regtest"
	"github.com/paved-ci/paved/pipelines/regauth"
)

// The cloud workflow's ship step, run by bash with fake aws, az and
// dagger: for each registry it mints the token with the right command,
// logs in with the username paved expects for that registry, masks the
// token before anything else, and hands it over only as
// env:REGISTRY_PASSWORD.
func TestCloudWorkflowLogsInPerRegistry(t *testing.T) {
	job := m(m(m(yamlDocs(t, githubCloud)[0])["jobs"])["ship"])
	if p := fmt.Sprint(m(job["permissions"])); p != "map[contents:read id-token:write packages:write]" {
		t.Errorf("permissions %s", p)
	}
	var script string
	for _, st := range job["steps"].([]any) {
		if m(st)["name"] == "paved ship" {
			script, _ = m(st)["run"].(string)
		}
	}
	if script == "" {
		t.Fatal("no paved ship step with a run script")
	}
	if strings.Contains(script, "${{") {
		t.Error("the run script interpolates an expression: values must come through env, where a secret stays out of the script text")
	}

	bin := t.TempDir()
	fakes := map[string]string{
		// print a token only for the command the docs give
		"aws": `[ "$*" = "ecr get-login-password --region eu-west-1" ] && echo sentinel-ecr-token`,
		"az":  `[ "$*" = "acr login --name acmeprod --expose-token --output tsv --query accessToken" ] && echo sentinel-acr-token`,
		"dagger": `for a in "$@"; do printf 'arg %s\n' "$a"; done
echo "env REGISTRY_PASSWORD=$REGISTRY_PASSWORD"
echo "env leftover=${GCP_ACCESS_TOKEN:-}${GITHUB_TOKEN:-}"`,
	}
	for name, body := range fakes {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	hosts := map[string]string{}
	for _, k := range regtest.Kinds {
		hosts[k.ID] = k.Host
	}
	for _, c := range []struct{ id, user, token string }{
		{"ecr", "AWS", "sentinel-ecr-token"},
		{"gar", "oauth2accesstoken", "sentinel-gcp-token"},
		{"acr", "00000000-0000-0000-0000-000000000000", "sentinel-acr-token"},
		{"ghcr", "octocat", "sentinel-github-token"},
	} {
		t.Run(c.id, func(t *testing.T) {
			image := hosts[c.id] + "/acme/app"
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PAVED_REGISTRY=" + c.id, "PAVED_IMAGE=" + image,
				"PAVED_VERSION=v0.1.0", "AWS_REGION=eu-west-1", "GITHUB_ACTOR=octocat", "PAVED_GIT_REF=refs/tags/v1.2.3",
				"PAVED_DEFAULT_BRANCH=main", "GCP_ACCESS_TOKEN=sentinel-gcp-token", "GITHUB_TOKEN=sentinel-github-token"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			text := string(out)
			var args []string
			for _, l := range strings.Split(text, "\n") {
				if a, ok := strings.CutPrefix(l, "arg "); ok {
					args = append(args, a)
				}
			}
			for _, want := range []string{"--image=" + image, "--registry-username=" + c.user, "--registry-password=env:REGISTRY_PASSWORD"} {
				if !strings.Contains(strings.Join(args, "\n")+"\n", want+"\n") {
					t.Errorf("dagger args lack %q: %q", want, args)
				}
			}
			if strings.Contains(strings.Join(args, " "), "sentinel") {
				t.Errorf("a token reached dagger's arguments: %q", args)
			}
			if !strings.Contains(text, "env REGISTRY_PASSWORD="+c.token+"\n") || !strings.Contains(text, "env leftover=\n") {
				t.Errorf("dagger's environment: want REGISTRY_PASSWORD=%s and no other token:\n%s", c.token, text)
			}
			if !strings.HasPrefix(text, "::add-mask::"+c.token+"\n") {
				t.Errorf("the token is not masked before anything else is printed:\n%s", text)
			}
			// The username is the one paved holds the registry to.
			if err := regauth.CheckUsername(hosts[c.id], c.user); err != nil {
				t.Error(err)
			}
			if p, ok := regauth.Detect(hosts[c.id]); !ok || p.ID != c.id || p.Strict && p.Usernames[0] != c.user {
				t.Errorf("%s: provider %+v, username %s", c.id, p, c.user)
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PAVED_REGISTRY=", "PAVED_IMAGE=x"}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "set the repository variable PAVED_REGISTRY") || strings.Contains(string(out), "arg ") {
			t.Errorf("%v\n%s", err, out)
		}
	})
}
