// Package templates holds the CI templates users copy or call (GitHub
// reusable workflows, a GitLab CI/CD component, a Jenkinsfile) and the
// tests that keep them valid and in step with each other.
package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"

	"github.com/paved-ci/paved/internal/schematest"
	"github.com/paved-ci/paved/pipelines/ci"
)

const root = "../.."

var (
	githubTemplates = []string{"github/paved.yml", "github/paved-keyless.yml"}
	githubWorkflows = []string{
		root + "/.github/workflows/ci.yml",
		root + "/.github/workflows/paved.yml",
		root + "/.github/workflows/paved-keyless.yml",
	}
	// githubCloud is copied, not called: it logs in to a cloud registry
	// in the job that runs paved.
	githubCloud     = "github/paved-cloud.yml"
	gitlabComponent = "gitlab/paved.yml"
	gitlabCI        = root + "/.gitlab-ci.yml"
	jenkinsfile     = "jenkins/Jenkinsfile"
)

// allGitHub lists every GitHub workflow file the tests lint.
func allGitHub() []string {
	return append(append(append([]string{}, githubTemplates...), githubWorkflows...), githubCloud)
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// yamlDocs decodes every document of a YAML stream into plain values for
// JSON Schema validation. Aliases and merge keys (<<) resolve as GitLab and
// GitHub resolve them; GitLab's !reference tag is kept as the plain
// sequence it is written as, which is what GitLab's schema describes.
func yamlDocs(t *testing.T, path string) []any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(read(t, path)))
	var docs []any
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		untag(&n)
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, v)
	}
	return docs
}

func untag(n *yaml.Node) {
	if n.Tag == "!reference" {
		n.Tag = "!!seq"
	}
	for _, c := range n.Content {
		untag(c)
	}
}

func m(v any) map[string]any {
	out, _ := v.(map[string]any)
	return out
}

func keys(v any) []string {
	var out []string
	for k := range m(v) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestGitHubWorkflowsPassActionlint(t *testing.T) {
	opts := &actionlint.LinterOptions{}
	// actionlint runs shellcheck on run: scripts when it is installed
	// (apt-get install shellcheck); without it the other rules still run.
	if p, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = p
	} else {
		t.Log("shellcheck not installed: run: scripts are not shellchecked")
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range allGitHub() {
		errs, err := l.Lint(f, read(t, f), nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range errs {
			t.Errorf("%s:%d:%d: %s [%s]", f, e.Line, e.Column, e.Message, e.Kind)
		}
	}
}

func TestGitHubWorkflowsMatchSchema(t *testing.T) {
	schematest.Need(t)
	for _, f := range allGitHub() {
		docs := yamlDocs(t, f)
		if len(docs) != 1 {
			t.Fatalf("%s: %d documents", f, len(docs))
		}
		if err := schematest.ValidateValue("github-workflow.json", docs[0]); err != nil {
			t.Errorf("%s: %#v", f, err)
		}
	}
}

// The reusable workflows are callable only from .github/workflows; the
// copies there must be the templates byte for byte.
func TestPublishedWorkflowsAreTheTemplates(t *testing.T) {
	for _, f := range githubTemplates {
		pub := filepath.Join(root, ".github/workflows", filepath.Base(f))
		if !bytes.Equal(read(t, f), read(t, pub)) {
			t.Errorf("%s differs from %s: cp %s %s", pub, f, filepath.Join("ci/templates", f), filepath.Join(".github/workflows", filepath.Base(f)))
		}
	}
}

// paved-keyless.yml is paved.yml plus id-token: write and the keyless
// switch; everything below the header comment must otherwise match.
func TestKeylessWorkflowIsBasePlusIDToken(t *testing.T) {
	body := func(f string) string {
		s := string(read(t, f))
		return s[strings.Index(s, "\nname: "):]
	}
	want := body(githubTemplates[0])
	for _, r := range [][2]string{
		{"\nname: paved\n", "\nname: paved (keyless)\n"},
		{"      packages: write\n    outputs:", "      packages: write\n      id-token: write # keyless signing: the Sigstore OIDC token\n    outputs:"},
		{`PAVED_KEYLESS: "false"`, `PAVED_KEYLESS: "true"`},
	} {
		if strings.Count(want, r[0]) != 1 {
			t.Fatalf("paved.yml: %q not found exactly once", r[0])
		}
		want = strings.Replace(want, r[0], r[1], 1)
	}
	if got := body(githubTemplates[1]); got != want {
		t.Errorf("paved-keyless.yml drifted from paved.yml; expected:\n%s", want)
	}
}

var usesLine = regexp.MustCompile(`(?m)^\s*(?:-\s*)?uses:\s*(\S+)(.*)$`)
var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)

func TestActionsPinnedBySHA(t *testing.T) {
	n := 0
	for _, f := range allGitHub() {
		for _, mm := range usesLine.FindAllStringSubmatch(string(read(t, f)), -1) {
			ref, rest := mm[1], mm[2]
			if strings.HasPrefix(ref, "./") {
				continue
			}
			n++
			if !pinned.MatchString(ref) {
				t.Errorf("%s: %s is not pinned by a full commit SHA", f, ref)
			}
			if !regexp.MustCompile(`#\s*v\d`).MatchString(rest) {
				t.Errorf("%s: %s has no `# vX` comment naming the version", f, ref)
			}
		}
	}
	if n == 0 {
		t.Fatal("no uses: lines found")
	}
}

func jobPermissions(t *testing.T, f, job string) map[string]any {
	doc := m(yamlDocs(t, f)[0])
	return m(m(m(doc["jobs"])[job])["permissions"])
}

func TestGitHubPermissionsAreMinimal(t *testing.T) {
	base := jobPermissions(t, githubTemplates[0], "ship")
	if fmt.Sprint(base) != "map[contents:read packages:write]" {
		t.Errorf("paved.yml ship permissions = %v", base)
	}
	keyless := jobPermissions(t, githubTemplates[1], "ship")
	if fmt.Sprint(keyless) != "map[contents:read id-token:write packages:write]" {
		t.Errorf("paved-keyless.yml ship permissions = %v", keyless)
	}
	for _, f := range githubTemplates {
		if p := m(yamlDocs(t, f)[0])["permissions"]; fmt.Sprint(p) != "map[]" {
			t.Errorf("%s: workflow-level permissions %v, want {} (jobs ask for their own)", f, p)
		}
	}
	for _, f := range []string{githubWorkflows[0], gitlabCI} {
		if bytes.Contains(read(t, f), []byte("id-token")) {
			t.Errorf("%s asks for an OIDC token it does not need", f)
		}
	}
}

// shipArgs are the golden module's ship arguments the templates expose.
var shipArgs = []string{
	"source", "dir", "image", "platforms", "tags", "registry-username", "registry-password",
	"severity", "skip", "sign-key", "sign-password", "oidc-token", "ci-env",
}

func TestInputsMapToShipArguments(t *testing.T) {
	wc := m(m(m(yamlDocs(t, githubTemplates[0])[0])["on"])["workflow_call"])
	gh := map[string]bool{}
	for _, k := range append(keys(wc["inputs"]), keys(wc["secrets"])...) {
		gh[k] = true
	}
	spec := m(m(yamlDocs(t, gitlabComponent)[0])["spec"])
	gl := map[string]bool{}
	for _, k := range keys(spec["inputs"]) {
		gl[k] = true
	}
	for _, a := range shipArgs {
		switch a {
		case "oidc-token": // GitHub: paved-keyless.yml; GitLab: keyless input
			if !gl["keyless"] {
				t.Error("GitLab component lacks the keyless input")
			}
		default:
			if !gh[a] {
				t.Errorf("GitHub workflow lacks input or secret %q (--%s)", a, a)
			}
			if !gl[a] {
				t.Errorf("GitLab component lacks input %q (--%s)", a, a)
			}
		}
		delete(gh, a)
		delete(gl, a)
	}
	// Whatever is left is about running the job, not about ship.
	if fmt.Sprint(sorted(gh)) != "[op-service-account-token paved-version registry-password-uri runs-on sign-key-uri sign-password-uri upload-results vault-addr vault-token]" {
		t.Errorf("GitHub inputs beyond ship's arguments: %v", sorted(gh))
	}
	if fmt.Sprint(sorted(gl)) != "[keyless paved-version registry-password-uri sign-key-uri sign-password-uri stage]" {
		t.Errorf("GitLab inputs beyond ship's arguments: %v", sorted(gl))
	}
	// GitHub secrets are secrets, not inputs.
	for _, s := range []string{"registry-password", "sign-key", "sign-password"} {
		if _, ok := m(wc["inputs"])[s]; ok {
			t.Errorf("GitHub: %s must be a secret, not an input", s)
		}
	}
}

func sorted(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// daggerCall returns the `dagger call ... results export --path=...`
// command a template runs, with line continuations and indentation
// collapsed to single spaces.
func daggerCall(t *testing.T, path string) string {
	t.Helper()
	s := string(read(t, path))
	i := strings.Index(s, "dagger call -m ")
	if i < 0 {
		t.Fatalf("%s: no `dagger call -m` line", path)
	}
	const end = "--path=./paved-results"
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("%s: the dagger call does not end in %s", path, end)
	}
	if strings.Count(s, "dagger call -m ") != 1 {
		t.Fatalf("%s: more than one dagger call", path)
	}
	cmd := strings.ReplaceAll(s[i:i+j+len(end)], "\\\n", " ")
	return strings.Join(strings.Fields(cmd), " ")
}

func TestTemplatesRunTheSameDaggerCall(t *testing.T) {
	want := daggerCall(t, githubTemplates[0])
	for _, f := range []string{githubTemplates[1], gitlabComponent, jenkinsfile} {
		if got := daggerCall(t, f); got != want {
			t.Errorf("%s runs\n  %s\nwhile %s runs\n  %s", f, got, githubTemplates[0], want)
		}
	}
	for _, a := range append(shipArgs, "git-ref", "pr-number", "default-branch") {
		if !strings.Contains(want, "--"+a+"=") {
			t.Errorf("the dagger call never passes --%s", a)
		}
	}
	if !strings.HasPrefix(want, `dagger call -m "github.com/paved-ci/paved@${PAVED_VERSION}" ship `) ||
		!strings.HasSuffix(want, " results export --path=./paved-results") {
		t.Errorf("unexpected call shape: %s", want)
	}
}

// The dagger call, run by each shell a template runs it in, with a fake
// dagger that prints its arguments: every set value arrives as one
// argument, unset ones leave no empty flag, secrets travel only as env:
// references.
func TestDaggerCallArguments(t *testing.T) {
	call := daggerCall(t, githubTemplates[0])
	bin := t.TempDir()
	fake := filepath.Join(bin, "dagger")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	shells := [][]string{{"bash"}, {"dash"}, {"busybox", "sh"}} // GitHub, Jenkins (sh), GitLab alpine (ash)
	full := map[string]string{
		"PAVED_VERSION": "v0.1.0", "PAVED_SOURCE": "./my app", "PAVED_DIR": "services/my api", "PAVED_IMAGE": "ghcr.io/acme/app",
		"PAVED_PLATFORMS": "linux/amd64,linux/arm64", "PAVED_TAGS": "a,b", "PAVED_REGISTRY_USERNAME": "bot user",
		"REGISTRY_PASSWORD": "sentinel-registry-secret", "PAVED_SEVERITY": "HIGH", "PAVED_SKIP": "scan",
		"COSIGN_KEY": "-----BEGIN KEY-----\nsentinel-key\n-----END KEY-----", "COSIGN_PASSWORD": "sentinel-pw",
		"SIGSTORE_ID_TOKEN": "sentinel.jwt.token", "PAVED_CI_ENV": "github",
		"PAVED_REGISTRY_SECRET": "env:REGISTRY_PASSWORD", "PAVED_SIGN_KEY": "env:COSIGN_KEY", "PAVED_SIGN_PASSWORD": "env:COSIGN_PASSWORD",
		"PAVED_GIT_REF": "refs/pull/7/merge", "PAVED_PR_NUMBER": "7", "PAVED_DEFAULT_BRANCH": "main",
	}
	wantFull := []string{
		"call", "-m", "github.com/paved-ci/paved@v0.1.0", "ship", "--source=./my app", "--dir=services/my api", "--continue-on-failure", "--image=ghcr.io/acme/app",
		"--platforms=linux/amd64,linux/arm64", "--tags=a,b", "--registry-username=bot user",
		"--registry-password=env:REGISTRY_PASSWORD", "--severity=HIGH", "--skip=scan",
		"--sign-key=env:COSIGN_KEY", "--sign-password=env:COSIGN_PASSWORD", "--oidc-token=env:SIGSTORE_ID_TOKEN",
		"--ci-env=github", "--git-ref=refs/pull/7/merge", "--pr-number=7", "--default-branch=main",
		"results", "export", "--path=./paved-results",
	}
	// secrets from a secret manager: the URI reaches dagger as it is
	uris := map[string]string{"PAVED_VERSION": "v0.1.0", "PAVED_SOURCE": ".", "PAVED_IMAGE": "ghcr.io/acme/app",
		"PAVED_REGISTRY_USERNAME": "ci", "PAVED_REGISTRY_SECRET": "vault://ci/registry.token",
		"PAVED_SIGN_KEY": "op://ci/cosign/private-key", "PAVED_SIGN_PASSWORD": "cmd://pass show cosign"}
	wantURIs := []string{"call", "-m", "github.com/paved-ci/paved@v0.1.0", "ship", "--source=.", "--continue-on-failure",
		"--image=ghcr.io/acme/app", "--registry-username=ci", "--registry-password=vault://ci/registry.token",
		"--sign-key=op://ci/cosign/private-key", "--sign-password=cmd://pass show cosign", "results", "export", "--path=./paved-results"}
	minimal := map[string]string{"PAVED_VERSION": "v0.1.0", "PAVED_SOURCE": ".", "PAVED_IMAGE": "ghcr.io/acme/app",
		"PAVED_PLATFORMS": "", "PAVED_TAGS": "", "REGISTRY_PASSWORD": ""}
	wantMinimal := []string{"call", "-m", "github.com/paved-ci/paved@v0.1.0", "ship", "--source=.", "--continue-on-failure",
		"--image=ghcr.io/acme/app", "results", "export", "--path=./paved-results"}
	ran := 0
	for _, sh := range shells {
		if _, err := exec.LookPath(sh[0]); err != nil {
			t.Logf("%s not installed: not run with it (apt-get install %s)", sh[0], sh[0])
			continue
		}
		for _, c := range []struct {
			env  map[string]string
			want []string
		}{{full, wantFull}, {uris, wantURIs}, {minimal, wantMinimal}} {
			cmd := exec.Command(sh[0], append(sh[1:], "-euc", call)...)
			cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
			for k, v := range c.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", sh, err, out)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
				t.Errorf("%v argv:\n got %q\nwant %q", sh, got, c.want)
			}
			if strings.Contains(string(out), "sentinel") {
				t.Errorf("%v: a secret value reached dagger's arguments:\n%s", sh, out)
			}
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no shell found to run the dagger call")
	}
}

func TestGitLabComponent(t *testing.T) {
	schematest.Need(t)
	docs := yamlDocs(t, gitlabComponent)
	if len(docs) != 2 {
		t.Fatalf("component has %d YAML documents, want the spec header and the jobs", len(docs))
	}
	if len(keys(docs[0])) != 1 || m(docs[0])["spec"] == nil {
		t.Errorf("header document %v, want only spec", keys(docs[0]))
	}
	for i, d := range docs {
		if err := schematest.ValidateValue("gitlab-ci.json", d); err != nil {
			t.Errorf("document %d: %#v", i, err)
		}
	}
	// Every interpolated input is declared, and every declared one used.
	text := string(read(t, gitlabComponent))
	used := map[string]bool{}
	for _, mm := range regexp.MustCompile(`\$\[\[\s*inputs\.([\w-]+)\s*\]\]`).FindAllStringSubmatch(text, -1) {
		used[mm[1]] = true
	}
	declared := keys(m(m(docs[0])["spec"])["inputs"])
	if fmt.Sprint(declared) != fmt.Sprint(sorted(used)) {
		t.Errorf("declared inputs %v, used %v", declared, sorted(used))
	}

	job := m(m(docs[1])["paved-ship"])
	if job == nil {
		t.Fatal("no paved-ship job")
	}
	// Job variables must be strings; a boolean input interpolated as the
	// whole value would keep its type.
	for name, in := range m(m(m(docs[0])["spec"])["inputs"]) {
		if typ, ok := m(in)["type"]; ok && typ != "string" {
			t.Errorf("input %s has type %v: it feeds a job variable, so it must be a string", name, typ)
		}
	}
	if aud := m(m(job["id_tokens"])["SIGSTORE_ID_TOKEN"])["aud"]; aud != "sigstore" {
		t.Errorf("id_tokens.SIGSTORE_ID_TOKEN.aud = %v", aud)
	}
	vars := m(job["variables"])
	for k, v := range map[string]string{
		"DOCKER_HOST": "tcp://docker:2376", "DOCKER_TLS_CERTDIR": "/certs",
		"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs/client", "DAGGER_VERSION": "0.21.9",
	} {
		if vars[k] != v {
			t.Errorf("variables.%s = %v, want %q (docker:dind over TLS)", k, vars[k], v)
		}
	}
	svc := fmt.Sprint(job["services"])
	if !strings.Contains(svc, "dind") || !strings.Contains(svc, "alias:docker") {
		t.Errorf("services %s: want docker:dind aliased docker", svc)
	}
	art := m(job["artifacts"])
	if art["when"] != "always" {
		t.Error("artifacts must be uploaded when the job fails too")
	}
	reports := m(art["reports"])
	for _, r := range ci.GitLabReports {
		want := ci.GitLabReportPath(r)
		got := reports[r]
		if r == "coverage_report" {
			cr := m(got)
			if cr["coverage_format"] != "cobertura" {
				t.Errorf("coverage_report format %v", cr["coverage_format"])
			}
			got = cr["path"]
		}
		if got != want {
			t.Errorf("reports.%s = %v, want %s (where paved-ci writes it)", r, got, want)
		}
	}
	if len(reports) != len(ci.GitLabReports) {
		t.Errorf("reports %v", keys(reports))
	}
}

func TestOwnCIRunsTheSameChecks(t *testing.T) {
	schematest.Need(t)
	for _, f := range []string{githubWorkflows[0], gitlabCI} {
		s := string(read(t, f))
		for _, want := range []string{
			// ci/engine-check runs the engine tests and the README's check
			"bash .ci/run", "bash ci/engine-check",
			"go vet ./...", "gofmt -l .", "staticcheck",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("%s does not run %q", f, want)
			}
		}
	}
	docs := yamlDocs(t, gitlabCI)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	if err := schematest.ValidateValue("gitlab-ci.json", docs[0]); err != nil {
		t.Errorf(".gitlab-ci.yml: %#v", err)
	}
	// Anchors resolved: the engine jobs got the dind variables.
	eng := m(m(docs[0])["engine-check"])
	if m(eng["variables"])["DOCKER_HOST"] != "tcp://docker:2376" || m(eng["variables"])["GIT_DEPTH"] != "0" {
		t.Errorf("engine-check variables %v", eng["variables"])
	}
}

// Every file that installs the dagger CLI pins v0.21.9 and checks it.
func TestDaggerCLIPinned(t *testing.T) {
	for _, f := range append(append([]string{gitlabComponent, gitlabCI, jenkinsfile}, githubTemplates...), githubWorkflows[0]) {
		s := string(read(t, f))
		if !strings.Contains(s, "dl.dagger.io/dagger/install.sh") {
			t.Errorf("%s does not install the dagger CLI", f)
		}
		if !regexp.MustCompile(`DAGGER_VERSION["']?\s*[:=]\s*["']0\.21\.9["']`).MatchString(s) {
			t.Errorf("%s does not pin DAGGER_VERSION 0.21.9", f)
		}
		if !strings.Contains(s, `grep -F "v$DAGGER_VERSION"`) {
			t.Errorf("%s does not check the installed version", f)
		}
	}
}

// paved's CI as published runs on a public GitHub or GitLab: the schemas
// are fetched before .ci/run (which requires them), and .ci/run installs
// packages through sudo when it is not root (GitHub's hosted runners).
func TestOwnCIWorksWithoutShared(t *testing.T) {
	for _, f := range []string{githubWorkflows[0], gitlabCI} {
		s := string(read(t, f))
		fetch, run := strings.Index(s, "bash ci/fetch-schemas"), strings.Index(s, "bash .ci/run")
		if fetch < 0 || fetch > run {
			t.Errorf("%s does not fetch the schemas before .ci/run", f)
		}
		if !strings.Contains(s, "PAVED_SHARED") {
			t.Errorf("%s does not point the tests at the fetched schemas (PAVED_SHARED)", f)
		}
	}
	// Run .ci/run's install block as a non-root user with a fake sudo and
	// apt-get: every apt-get call must go through sudo.
	src := string(read(t, "../../.ci/run"))
	i, j := strings.Index(src, "pkgs=()"), strings.Index(src, "export PAVED_REQUIRE_SCHEMAS")
	if i < 0 || j < i {
		t.Fatal(".ci/run: install block not found")
	}
	bin := t.TempDir()
	logf := filepath.Join(bin, "calls")
	for name, body := range map[string]string{
		"sudo":    "echo \"sudo $*\" >>" + logf + "\n",
		"apt-get": "echo \"bare apt-get $*\" >>" + logf + "\n",
		"id":      "echo 1001\n",
		// nothing is installed: every package is asked for
		"command": "",
	} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	block := "command() { return 1; }\n" + src[i:j]
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install block: %v\n%s", err, out)
	}
	calls := string(read(t, logf))
	if strings.Contains(calls, "bare apt-get") || !strings.Contains(calls, "sudo apt-get update") ||
		!strings.Contains(calls, "sudo env DEBIAN_FRONTEND=noninteractive apt-get install") {
		t.Errorf("as a non-root user, .ci/run ran:\n%s", calls)
	}
}

// GitLab and Jenkins pick each secret's source in shell before the call
// (GitHub in its env: expressions): the URI input when given, else the CI
// variable by env: reference, else nothing.
func TestSecretSourcesDefaultToTheCIVariables(t *testing.T) {
	for _, f := range []string{gitlabComponent, jenkinsfile} {
		var prelude []string
		for _, l := range strings.Split(string(read(t, f)), "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, `: "${PAVED_`) {
				prelude = append(prelude, l)
			}
		}
		if len(prelude) != 2 {
			t.Fatalf("%s: %d secret-source lines, want 2", f, len(prelude))
		}
		script := strings.Join(prelude, "\n") + "\necho \"$PAVED_SIGN_KEY|$PAVED_SIGN_PASSWORD|$PAVED_REGISTRY_SECRET\""
		for _, c := range []struct {
			env  []string
			want string
		}{
			{[]string{"COSIGN_KEY=k", "COSIGN_PASSWORD=p", "REGISTRY_PASSWORD=r"}, "env:COSIGN_KEY|env:COSIGN_PASSWORD|env:REGISTRY_PASSWORD"},
			{[]string{"COSIGN_KEY=k", "PAVED_SIGN_KEY=vault://ci/cosign.key", "PAVED_REGISTRY_SECRET=op://ci/reg/token"}, "vault://ci/cosign.key||op://ci/reg/token"},
			{nil, "||"},
		} {
			cmd := exec.Command("sh", "-euc", script)
			cmd.Env = c.env
			out, err := cmd.CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != c.want {
				t.Errorf("%s with %v: %q %v, want %q", f, c.env, got, err, c.want)
			}
		}
	}
}
