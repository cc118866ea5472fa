//go:build goexperiment.jsonv2

// Real trivy, as a library, offline: a vulnerability DB built from the
// YAML fixtures in testdata/db, a generated source tree and a generated
// OCI image layout. These tests produce the trivy JSON reports the other
// tests of this package (and of package policy) judge; with -update they
// rewrite testdata/trivy-fs.json and testdata/trivy-image.json.
//
//	GOEXPERIMENT=jsonv2 go test ./pipelines/scan/report/ -run Real [-update]

package report_test

//lint:file-ignore SA1019 Severity is the severity trivy writes, gates (--severity) and reports on; VendorSeverity is per source.

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	fixtures "github.com/aquasecurity/bolt-fixtures"
	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy/pkg/clock"
	"github.com/aquasecurity/trivy/pkg/commands"
	"github.com/aquasecurity/trivy/pkg/db"
	trivyreport "github.com/aquasecurity/trivy/pkg/report"
	"github.com/aquasecurity/trivy/pkg/types"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/spf13/viper"

	"github.com/paved-ci/paved/internal/jsontest"
	"github.com/paved-ci/paved/internal/schematest"
	"github.com/paved-ci/paved/pipelines/scan"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// fakeToken is token-shaped, built so this source holds no secret itself.
var fakeToken = "ghp_" + strings.Repeat("aB3x", 9)

var update = flag.Bool("update", false, "rewrite testdata/trivy-*.json from a real trivy run")

// scanTime is fixed so regenerated reports differ only where trivy does.
var scanTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "paved-trivy-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

var sharedCache string

// buildDB writes a trivy cache dir holding a DB built from testdata/db,
// once per test binary.
func buildDB(t *testing.T) string {
	t.Helper()
	if sharedCache != "" {
		return sharedCache
	}
	cacheDir := filepath.Join(tmpRoot, "cache")
	dbDir := db.Dir(cacheDir)
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/db/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no DB fixtures: %v", err)
	}
	loader, err := fixtures.New(trivydb.Path(dbDir), files)
	if err != nil {
		t.Fatal(err)
	}
	if err := loader.Load(); err != nil {
		t.Fatal(err)
	}
	if err := loader.Close(); err != nil {
		t.Fatal(err)
	}
	// --skip-db-update still checks that metadata.json exists and matches
	// the schema version.
	err = metadata.NewClient(dbDir).Update(metadata.Metadata{
		Version: db.SchemaVersion, NextUpdate: time.Now().Add(24 * time.Hour),
		UpdatedAt: time.Now(), DownloadedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sharedCache = cacheDir
	return cacheDir
}

// sourceTree writes a project with vulnerable Go and npm dependencies, a
// leaked token and a Dockerfile running as root.
func sourceTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", `module example.com/app

go 1.22

require (
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
	golang.org/x/text v0.3.6
)
`)
	write("web/package-lock.json", `{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "web", "version": "1.0.0", "dependencies": {"lodash": "4.17.20", "minimist": "1.2.5", "request": "2.88.2"}},
    "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz", "license": "MIT"},
    "node_modules/minimist": {"version": "1.2.5", "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz", "license": "MIT"},
    "node_modules/request": {"version": "2.88.2", "resolved": "https://registry.npmjs.org/request/-/request-2.88.2.tgz", "license": "Apache-2.0"}
  }
}
`)
	write("deploy/ci.env", "GITHUB_TOKEN="+fakeToken+"\n")
	write("Dockerfile", "FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD [\"sh\"]\n")
	return dir
}

// imageLayout writes an OCI layout of an Alpine 3.20 image whose apk
// database lists vulnerable musl, busybox and openssl packages.
func imageLayout(t *testing.T) string {
	t.Helper()
	installed := ""
	for _, p := range [][3]string{
		{"musl", "1.2.5-r0", "musl"},
		{"busybox", "1.36.1-r15", "busybox"},
		{"libcrypto3", "3.3.1-r0", "openssl"},
		{"libssl3", "3.3.1-r0", "openssl"},
		{"zlib", "1.3.1-r1", "zlib"},
	} {
		installed += "P:" + p[0] + "\nV:" + p[1] + "\nA:x86_64\nL:MIT\no:" + p[2] + "\n\n"
	}
	layer, err := crane.Layer(map[string][]byte{
		"etc/alpine-release":   []byte("3.20.3\n"),
		"etc/os-release":       []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n"),
		"lib/apk/db/installed": []byte(installed),
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created.Time = scanTime
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runTrivy runs the trivy CLI in-process and returns its JSON report.
func runTrivy(t *testing.T, cacheDir string, args ...string) []byte {
	t.Helper()
	defer viper.Reset() // trivy keeps flags in viper's global state
	out := filepath.Join(t.TempDir(), "report.json")
	args = append(args, "--cache-dir", cacheDir, "--quiet", "--format", "json", "--list-all-pkgs", "--output", out,
		"--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-check-update",
		"--skip-version-check", "--disable-telemetry")
	app := commands.NewApp()
	app.SetOut(io.Discard)
	app.SetArgs(args)
	if err := app.ExecuteContext(clock.With(context.Background(), scanTime)); err != nil {
		t.Fatalf("trivy %s: %v", strings.Join(args, " "), err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type realReports struct{ fs, image []byte }

var real *realReports

// produce runs trivy once per artifact for the whole test binary.
func produce(t *testing.T) *realReports {
	t.Helper()
	if real != nil {
		return real
	}
	cache := buildDB(t)
	src := sourceTree(t)
	img := imageLayout(t)
	r := &realReports{
		fs:    runTrivy(t, cache, "filesystem", "--scanners", "vuln,secret,misconfig", src),
		image: runTrivy(t, cache, "image", "--scanners", "vuln", "--input", img),
	}
	// A temp dir name is the only thing that differs run to run.
	r.fs = bytes.ReplaceAll(r.fs, []byte(src), []byte("/src"))
	r.image = bytes.ReplaceAll(r.image, []byte(img), []byte("/work/image-oci"))
	real = r
	return r
}

type vulnKey struct{ ID, Pkg, Installed, Fixed, Severity string }

func vulnKeys(t *testing.T, r *types.Report) []vulnKey {
	t.Helper()
	var out []vulnKey
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			out = append(out, vulnKey{v.VulnerabilityID, v.PkgName, v.InstalledVersion, v.FixedVersion, v.Severity})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID+out[i].Pkg < out[j].ID+out[j].Pkg })
	return out
}

func TestRealTrivyReports(t *testing.T) {
	r := produce(t)
	for _, c := range []struct {
		name   string
		got    []byte
		golden string
		want   []vulnKey
	}{
		{"fs", r.fs, "testdata/trivy-fs.json", []vulnKey{
			{"CVE-2020-26160", "github.com/dgrijalva/jwt-go", "v3.2.0+incompatible", "", "HIGH"},
			{"CVE-2020-28500", "lodash", "4.17.20", "4.17.21", "MEDIUM"},
			{"CVE-2021-23337", "lodash", "4.17.20", "4.17.21", "HIGH"},
			{"CVE-2021-38561", "golang.org/x/text", "v0.3.6", "0.3.7", "HIGH"},
			{"CVE-2021-44906", "minimist", "1.2.5", "1.2.6", "CRITICAL"},
			{"CVE-2022-32149", "golang.org/x/text", "v0.3.6", "0.3.8", "HIGH"},
			{"CVE-2023-28155", "request", "2.88.2", "", "MEDIUM"},
		}},
		{"image", r.image, "testdata/trivy-image.json", []vulnKey{
			{"CVE-2023-42363", "busybox", "1.36.1-r15", "1.36.1-r16", "MEDIUM"},
			{"CVE-2024-6119", "libcrypto3", "3.3.1-r0", "3.3.2-r0", "HIGH"},
			{"CVE-2024-6119", "libssl3", "3.3.1-r0", "3.3.2-r0", "HIGH"},
			{"CVE-2025-26519", "musl", "1.2.5-r0", "1.2.5-r9", "HIGH"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := report.Parse(c.got)
			if err != nil {
				t.Fatalf("report.Parse on real trivy output: %v", err)
			}
			if report.PackageCount(rep) == 0 {
				t.Error("report lists no packages; --list-all-pkgs was not honoured")
			}
			got := vulnKeys(t, rep)
			if !equalKeys(got, c.want) {
				t.Errorf("vulnerabilities:\n got %v\nwant %v", got, c.want)
			}
			if *update {
				if err := os.WriteFile(c.golden, c.got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			// The committed golden must still be what trivy produces.
			gb, err := os.ReadFile(c.golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			golden, err := report.Parse(gb)
			if err != nil {
				t.Fatal(err)
			}
			if g := vulnKeys(t, golden); !equalKeys(g, got) {
				t.Errorf("%s is stale (run with -update):\n golden %v\n trivy  %v", c.golden, g, got)
			}
			if report.PackageCount(golden) != report.PackageCount(rep) {
				t.Errorf("%s lists %d packages, trivy %d (run with -update)", c.golden, report.PackageCount(golden), report.PackageCount(rep))
			}
		})
	}
	// The fs scan also found the token and the root Dockerfile, and no
	// output carries the token itself.
	rep, _ := report.Parse(r.fs)
	out, err := report.Convert(context.Background(), rep, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"trivy": r.fs, "sarif": out.SARIF, "sbom": out.CycloneDX, "gitlab": out.GitLab, "summary": out.Markdown} {
		if bytes.Contains(b, []byte(fakeToken)) || bytes.Contains(b, []byte(fakeToken[4:])) {
			t.Errorf("%s output contains the secret", name)
		}
	}
	kinds := map[report.Kind]int{}
	for _, f := range report.Findings(rep) {
		kinds[f.Kind]++
	}
	if kinds[report.Secret] != 1 {
		t.Errorf("secrets found: %d, want 1 (deploy/ci.env)", kinds[report.Secret])
	}
	if kinds[report.Misconfiguration] == 0 {
		t.Errorf("no failed misconfiguration found in the Dockerfile")
	}
}

func equalKeys(a, b []vulnKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Our SARIF must be what trivy's own writer (needs jsonv2) gives.
func TestRealSARIFMatchesTrivyWriter(t *testing.T) {
	r := produce(t)
	for name, b := range map[string][]byte{"fs": r.fs, "image": r.image} {
		t.Run(name, func(t *testing.T) {
			rep, err := report.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			target := ""
			if name == "fs" {
				target = "/src" // filesystem scans set ROOTPATH
			}
			ours, err := report.SARIF(rep, report.SARIFOptions{Version: "0.74.0", Target: target})
			if err != nil {
				t.Fatal(err)
			}
			var theirs bytes.Buffer
			w := trivyreport.SarifWriter{Output: &theirs, Version: "0.74.0", Target: target}
			if err := w.Write(context.Background(), *rep); err != nil {
				t.Fatal(err)
			}
			if !jsontest.Equal(t, ours, theirs.Bytes()) {
				os.WriteFile(filepath.Join(t.TempDir(), "ours.sarif"), ours, 0o644)
				t.Errorf("SARIF differs from trivy's writer:\nours:   %.2000s\ntheirs: %.2000s", ours, theirs.Bytes())
			}
			if err := schematest.Validate("sarif-2.1.0.json", ours); err != nil {
				t.Errorf("SARIF schema: %v", err)
			}
		})
	}
}

// The exact command line package scan gives the trivy container, offline,
// run by trivy v0.74.0: it must parse, read nothing from the network and
// yield a report with packages, for a source tree and for an image
// tarball (what Container.AsTarball gives).
func TestGlueArgsRunInTrivy(t *testing.T) {
	cache := buildDB(t)
	opts := scan.Options{Offline: true}
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	lp, err := layout.FromPath(imageLayout(t))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("registry.example.com/app:1.0.0")
	if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
		t.Fatal(err)
	}
	src := sourceTree(t)
	// trivy-action's skip-dirs/skip-files as paved passes them: the
	// skipped lock file's CVE and the skipped folder's secret are gone
	skipping := opts
	skipping.SkipFiles = []string{"**/package-lock.json"}
	skipping.SkipDirs = []string{"deploy"}
	for _, c := range []struct {
		name, kind, target, wantVuln, gone string
		opts                               scan.Options
	}{
		{"fs", "fs", src, "CVE-2021-44906", "", opts},
		{"image", "image", tarPath, "CVE-2025-26519", "", opts},
		{"fs-skipping", "fs", src, "CVE-2021-38561", "CVE-2021-44906 github-pat", skipping},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "trivy.json")
			args := c.opts.ScanArgs(c.kind, c.target)
			if args[0] != "trivy" {
				t.Fatalf("args[0] = %q", args[0])
			}
			args = args[1:]
			for i, a := range args {
				switch a {
				case scan.CacheDir:
					args[i] = cache
				case scan.ReportPath:
					args[i] = out
				}
			}
			func() {
				defer viper.Reset()
				app := commands.NewApp()
				app.SetOut(io.Discard)
				app.SetArgs(append(args, "--quiet"))
				if err := app.ExecuteContext(clock.With(context.Background(), scanTime)); err != nil {
					t.Fatalf("trivy %v: %v", args, err)
				}
			}()
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			r, err := report.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if report.PackageCount(r) == 0 {
				t.Error("no packages listed")
			}
			found := false
			for _, f := range report.Findings(r) {
				found = found || f.ID == c.wantVuln
			}
			if !found {
				t.Errorf("%s not found in %s scan", c.wantVuln, c.kind)
			}
			for _, id := range strings.Fields(c.gone) {
				for _, f := range report.Findings(r) {
					if f.ID == id {
						t.Errorf("%s found in a skipped path (%s)", id, f.Target)
					}
				}
			}
		})
	}
}
