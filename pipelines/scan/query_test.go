package scan_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/scan"
)

func TestQueryOfflineImageScanMountsTheDBCacheAndDownloadsNothing(t *testing.T) {
	client, conn := daggertest.New(t)
	s := &scan.Scanner{Client: client, Images: images.MustDefault(), Opts: scan.Options{Offline: true}}
	f, err := s.Container(client.Container().From("registry.example.com/app:1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Contents(t.Context()); err != nil {
		t.Fatal(err)
	}
	trivy := images.MustDefault().Ref(images.Trivy)
	q := conn.AssertQueried(t, `from(address:"`+trivy+`")`, `withMountedCache(cache:`, `path:"`+scan.CacheDir+`"`,
		`withMountedFile(path:"/paved/in/image.tar"`, `asTarball`, `"--offline-scan"`, `"--skip-db-update"`, `"--list-all-pkgs"`,
		`file(path:"`+scan.ReportPath+`"){contents}`)
	if q != "" && !regexp.MustCompile(`withMountedCache\(cache:"id\d+:cacheVolume\(key:\\"paved-trivy-db\\"\)", path:"/root/.cache/trivy"\)`).MatchString(q) {
		t.Errorf("the mounted cache is not volume paved-trivy-db:\n%s", q)
	}
	conn.AssertNotQueried(t, "--download-db-only")
	// trivy does not create the folder of --output: it must exist before the scan
	mk, sc := strings.Index(q, `withDirectory(path:"/paved/out"`), strings.Index(q, `"--output"`)
	if mk < 0 || sc < 0 || mk > sc {
		t.Errorf("the report folder /paved/out is not created before trivy runs:\n%s", q)
	}
	if !strings.Contains(trivy, "@sha256:") {
		t.Logf("trivy image %s is not digest-pinned", trivy)
	}
}

func TestQueryOnlineRefreshesTheDBDailyFromTheOverriddenRepositoryBeforeScanning(t *testing.T) {
	client, conn := daggertest.New(t)
	day := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	s := &scan.Scanner{Client: client, Images: images.MustDefault(), Opts: scan.Options{DBRepository: "mirror.example.com/trivy-db:2", Now: day}}
	f, err := s.Source(client.Directory())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Contents(t.Context()); err != nil {
		t.Fatal(err)
	}
	q := conn.AssertQueried(t, `withEnvVariable(name:"PAVED_TRIVY_DB_DAY", value:"2026-11-26")`, `"--download-db-only"`, `"--db-repository","mirror.example.com/trivy-db:2"`,
		`withMountedDirectory(path:"/paved/src"`, `["trivy","fs",`)
	dl, sc := strings.Index(q, "--download-db-only"), strings.Index(q, `["trivy","fs",`)
	if dl < 0 || sc < 0 || dl > sc {
		t.Errorf("the DB download does not come before the scan:\n%s", q)
	}
	if !strings.Contains(q, `withMountedCache(`) || strings.Index(q, "withMountedCache(") > dl {
		t.Errorf("the cache volume is not mounted before the download:\n%s", q)
	}
}

func TestQueryImageOverrideReachesTheScan(t *testing.T) {
	client, conn := daggertest.New(t)
	imgs, err := images.New(images.Options{Override: map[string]string{images.Trivy: "mirror.example.com/aquasec/trivy:0.74.0"}})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := (&scan.Scanner{Client: client, Images: imgs, Opts: scan.Options{Offline: true}}).Source(client.Directory())
	if _, err := f.Contents(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `from(address:"mirror.example.com/aquasec/trivy:0.74.0")`)
}

func fsReportJSON(t *testing.T) string {
	b, err := os.ReadFile("report/testdata/trivy-fs.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stageAnswers(t *testing.T, exceptions string) []daggertest.Answer {
	rep := fsReportJSON(t)
	return []daggertest.Answer{
		func(l daggertest.Leaf) (any, bool) {
			switch {
			case l.Name() == "contents" && strings.Contains(l.Query, `file(path:"`+scan.ReportPath+`")`):
				return rep, true
			case l.Name() == "exists":
				return exceptions != "" && l.Arg(-1, "path") == ".paved/exceptions.yaml", true
			case l.Name() == "contents" && strings.Contains(l.Query, `file(path:".paved/exceptions.yaml")`):
				return exceptions, true
			}
			return nil, false
		},
	}
}

func TestQueryStageFailsOnTheGateAndKeepsEveryReport(t *testing.T) {
	client, conn := daggertest.New(t, stageAnswers(t, "")...)
	st := pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{})
	st.Variants = []*dagger.Container{client.Container().From("registry.example.com/app:1")}
	stage := scan.Stage{Opts: scan.Options{Offline: true}, Now: func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }}
	err := stage.Run(t.Context(), st)
	if err == nil || !strings.Contains(err.Error(), "policy gate failed: image:") || !strings.Contains(err.Error(), "CVE-2021-44906") {
		t.Fatalf("Run = %v, want the gate to fail on CVE-2021-44906", err)
	}
	for _, k := range []string{scan.KindTrivyJSON, scan.KindSARIF, scan.KindSBOM, scan.KindGitLab, scan.KindSummary} {
		if st.Reports[k] == nil {
			t.Errorf("report %s missing", k)
		}
	}
	if st.Results.Findings["CRITICAL"] != 2 || st.Results.Findings["HIGH"] != 5 {
		t.Errorf("findings = %v", st.Results.Findings)
	}
	// trivy ran once: one scan exec for the one image
	if n := strings.Count(conn.All(), `"--format","json"`); n != 1 {
		t.Errorf("trivy ran %d times", n)
	}
	// the policy files were looked for in the source tree
	conn.AssertQueried(t, `exists(path:".paved/exceptions.yaml")`)
}

func TestQueryStageExceptionsFromTheSourceTree(t *testing.T) {
	exc := `exceptions:
  - {id: CVE-2021-44906, package: minimist, reason: build only, owner: bob, expires: 2027-01-01}
  - {id: github-pat, path: deploy/ci.env, reason: fake token, owner: sec, expires: 2027-01-01}
  - {id: CVE-2021-23337, package: lodash, reason: r, owner: o, expires: 2027-01-01}
  - {id: CVE-2021-38561, package: golang.org/x/text, reason: r, owner: o, expires: 2027-01-01}
  - {id: CVE-2022-32149, package: golang.org/x/text, reason: r, owner: o, expires: 2027-01-01}
  - {id: CVE-2020-26160, package: github.com/dgrijalva/jwt-go, reason: r, owner: o, expires: 2027-01-01}
  - {id: DS-0002, path: Dockerfile, reason: r, owner: o, expires: 2027-01-01}
`
	client, _ := daggertest.New(t, stageAnswers(t, exc)...)
	st := pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{})
	stage := scan.Stage{Opts: scan.Options{Offline: true}, Now: func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }}
	if err := stage.Run(t.Context(), st); err != nil {
		t.Fatalf("every failing finding is excepted, yet: %v", err)
	}
	if st.Reports[scan.KindSARIF+"-source"] == nil {
		t.Errorf("source scan reports missing: %v", st.Reports)
	}
	// a broken exceptions file stops the stage
	client, _ = daggertest.New(t, stageAnswers(t, "exceptions:\n  - id: CVE-1\n")...)
	st = pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{})
	if err := stage.Run(t.Context(), st); err == nil || !strings.Contains(err.Error(), ".paved/exceptions.yaml:2:") {
		t.Errorf("broken exceptions file: %v", err)
	}
}

func TestStageSkipsOnlyWithNothingToScan(t *testing.T) {
	client, _ := daggertest.New(t)
	st := pipeline.NewState(client, nil, images.MustDefault(), gitmeta.Info{})
	if skip, why := (scan.Stage{}).Skip(st); !skip || why == "" {
		t.Error("no image and no source: not skipped")
	}
	st.Source = client.Directory()
	if skip, _ := (scan.Stage{}).Skip(st); skip {
		t.Error("a source tree alone must be scanned")
	}
	if !(scan.Stage{}).Mandated() || (scan.Stage{}).String() != "scan" {
		t.Error("scan is the mandated stage named scan")
	}
}

// Misconfiguration checks run on the first platform's variant only: the
// others scan for vulnerabilities and secrets. A platform policy that
// requires misconfig still passes for them, and their summary says where
// those checks ran.
func TestQueryMisconfigurationChecksRunOnceAcrossPlatforms(t *testing.T) {
	exc := "exceptions:\n" +
		"  - {id: CVE-2021-44906, package: minimist, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: github-pat, path: deploy/ci.env, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: CVE-2021-23337, package: lodash, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: CVE-2021-38561, package: golang.org/x/text, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: CVE-2022-32149, package: golang.org/x/text, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: CVE-2020-26160, package: github.com/dgrijalva/jwt-go, reason: r, owner: o, expires: 2027-01-01}\n" +
		"  - {id: DS-0002, path: Dockerfile, reason: r, owner: o, expires: 2027-01-01}\n"
	client, conn := daggertest.New(t, append(stageAnswers(t, exc), daggertest.On("platform", "linux/arm64"))...)
	st := pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{})
	st.Variants = []*dagger.Container{
		client.Container(dagger.ContainerOpts{Platform: "linux/amd64"}).From("registry.example.com/app:1"),
		client.Container(dagger.ContainerOpts{Platform: "linux/arm64"}).From("registry.example.com/app:1"),
	}
	stage := scan.Stage{
		Opts:     scan.Options{Offline: true},
		Platform: []byte("threshold: HIGH\nrequiredScanners: [vuln, secret, misconfig]\n"), PlatformName: "platform.yaml",
		Now: func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) },
	}
	if err := stage.Run(t.Context(), st); err != nil {
		t.Fatalf("Run = %v", err)
	}
	all := conn.All()
	if n := strings.Count(all, `"--scanners","vuln,secret,misconfig"`); n != 1 {
		t.Errorf("%d scans with misconfiguration checks, want 1", n)
	}
	if n := strings.Count(all, `"--scanners","vuln,secret"`); n != 1 {
		t.Errorf("%d scans without them, want 1", n)
	}
	if st.Reports[scan.KindSummary+"-image-linux-arm64"] == nil {
		t.Fatalf("no summary for the arm64 variant: %v", st.Reports)
	}
	// the summary is written into the results; reading it sends its text
	if _, err := st.Reports[scan.KindSummary+"-image-linux-arm64"].Contents(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, "Misconfiguration checks ran once, on the first platform")
}
