// Package scan is paved's Scan stage: trivy runs once, in the image from
// the image table, against an image tarball or a source directory, and
// writes its JSON report (all packages listed). Every other format and the
// policy gate are derived from that report in Go (packages scan/report and
// policy). The vulnerability DB lives in a Dagger cache volume, so it is
// downloaded at most once a day per engine, or never in offline mode.
//
// This package imports no trivy package that needs GOEXPERIMENT=jsonv2.
package scan

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/images"
)

const (
	// CacheVolume is the Dagger cache volume holding trivy's DB.
	CacheVolume = "paved-trivy-db"
	// CacheDir is where it is mounted; trivy is told with --cache-dir.
	CacheDir = "/root/.cache/trivy"
	// ReportPath is where trivy writes its JSON report in the container.
	ReportPath = "/paved/out/trivy.json"

	imageInput = "/paved/in/image.tar"
	sourceDir  = "/paved/src"
)

// DefaultScanners are run unless Options.Scanners says otherwise.
var DefaultScanners = []string{"vuln", "secret", "misconfig"}

// Options say how trivy runs.
type Options struct {
	// Scanners for --scanners; nil means DefaultScanners.
	Scanners []string
	// License adds the license scanner.
	License bool
	// DBRepository overrides where the vulnerability DB comes from
	// (--db-repository), e.g. a mirror of ghcr.io/aquasecurity/trivy-db.
	DBRepository string
	// JavaDBRepository likewise for the Java DB (--java-db-repository).
	JavaDBRepository string
	// ChecksBundleRepository likewise for misconfiguration checks.
	ChecksBundleRepository string
	// SkipDirs and SkipFiles are trivy's --skip-dirs and --skip-files
	// (globs such as **/testdata or vendor/*.pem): what trivy-action's
	// skip-dirs and skip-files inputs did.
	SkipDirs, SkipFiles []string
	// Offline never downloads: the DB must already be in the cache
	// volume (--skip-db-update --offline-scan, embedded checks).
	Offline bool
	// Now stamps the daily DB refresh; zero is time.Now.
	Now time.Time
}

// ScannerList is the effective --scanners value, in order.
func (o Options) ScannerList() []string {
	s := o.Scanners
	if len(s) == 0 {
		s = DefaultScanners
	}
	out := append([]string(nil), s...)
	if o.License && !contains(out, "license") {
		out = append(out, "license")
	}
	return out
}

// Validate rejects scanners trivy does not know.
func (o Options) Validate() error {
	for _, s := range o.ScannerList() {
		switch s {
		case "vuln", "secret", "misconfig", "license":
		default:
			return fmt.Errorf("scan: unknown scanner %q (want vuln, secret, misconfig or license)", s)
		}
	}
	for _, l := range []struct {
		flag  string
		globs []string
	}{{"skip-dirs", o.SkipDirs}, {"skip-files", o.SkipFiles}} {
		for _, g := range l.globs {
			if strings.TrimSpace(g) == "" || !doublestar.ValidatePattern(g) {
				return fmt.Errorf("%s %q is not a valid glob (e.g. **/testdata, vendor/*.pem)", l.flag, g)
			}
		}
	}
	return nil
}

// DownloadArgs is the exec that fills the cache volume with the DB; nil in
// offline mode, where nothing is downloaded.
func (o Options) DownloadArgs() []string {
	if o.Offline {
		return nil
	}
	args := []string{"trivy", "image", "--download-db-only", "--cache-dir", CacheDir, "--no-progress", "--skip-version-check", "--disable-telemetry"}
	if o.DBRepository != "" {
		args = append(args, "--db-repository", o.DBRepository)
	}
	return args
}

// ScanArgs is the trivy command line for one target. kind is "image"
// (target: an image tarball) or "fs" (target: a directory).
func (o Options) ScanArgs(kind, target string) []string {
	args := []string{"trivy", kind}
	if kind == "image" {
		args = append(args, "--input", target)
	}
	args = append(args,
		"--cache-dir", CacheDir,
		"--scanners", strings.Join(o.ScannerList(), ","),
		"--format", "json", "--list-all-pkgs",
		"--output", ReportPath,
		// the gate applies exceptions and .trivyignore itself, so that
		// suppressed findings stay visible in the report
		"--ignorefile", "/dev/null",
		"--exit-code", "0",
		"--no-progress", "--skip-version-check", "--disable-telemetry",
		// the DB was fetched by DownloadArgs (or must be there offline)
		"--skip-db-update",
	)
	// one flag per glob: a glob may hold a comma
	for _, d := range o.SkipDirs {
		args = append(args, "--skip-dirs", d)
	}
	for _, f := range o.SkipFiles {
		args = append(args, "--skip-files", f)
	}
	if o.Offline {
		args = append(args, "--skip-java-db-update", "--offline-scan", "--skip-check-update")
	} else {
		if o.JavaDBRepository != "" {
			args = append(args, "--java-db-repository", o.JavaDBRepository)
		}
		if o.ChecksBundleRepository != "" {
			args = append(args, "--checks-bundle-repository", o.ChecksBundleRepository)
		}
	}
	if kind == "fs" {
		args = append(args, target)
	}
	return args
}

// Scanner runs trivy through a Dagger client.
type Scanner struct {
	Client *dagger.Client
	Images *images.Set
	Opts   Options
}

// base is the trivy container with the DB cache mounted and, unless
// offline, refreshed.
func (s *Scanner) base() *dagger.Container {
	c := s.Client.Container().
		From(s.Images.Ref(images.Trivy)).
		WithMountedCache(CacheDir, s.Client.CacheVolume(CacheVolume)).
		// trivy does not create the folder of --output, and the trivy image
		// has no /paved: without this, every scan fails on a real engine
		WithDirectory(path.Dir(ReportPath), s.Client.Directory()).
		WithWorkdir("/paved")
	if args := s.Opts.DownloadArgs(); args != nil {
		now := s.Opts.Now
		if now.IsZero() {
			now = time.Now()
		}
		// Dagger caches an exec by its inputs: the day makes the refresh
		// run at most daily; trivy skips the download when the DB in the
		// volume is still fresh.
		c = c.WithEnvVariable("PAVED_TRIVY_DB_DAY", now.UTC().Format("2006-01-02")).
			WithExec(args)
	}
	return c
}

// Image scans an image tarball (Container.AsTarball) and returns trivy's
// JSON report.
func (s *Scanner) Image(tarball *dagger.File) (*dagger.File, error) {
	if err := s.Opts.Validate(); err != nil {
		return nil, err
	}
	return s.base().
		WithMountedFile(imageInput, tarball).
		WithExec(s.Opts.ScanArgs("image", imageInput)).
		File(ReportPath), nil
}

// Container scans a built container through its tarball.
func (s *Scanner) Container(c *dagger.Container) (*dagger.File, error) {
	return s.Image(c.AsTarball())
}

// Source scans a source directory and returns trivy's JSON report.
// Findings' paths are relative to the directory.
func (s *Scanner) Source(dir *dagger.Directory) (*dagger.File, error) {
	if err := s.Opts.Validate(); err != nil {
		return nil, err
	}
	return s.base().
		WithMountedDirectory(sourceDir, dir).
		WithExec(s.Opts.ScanArgs("fs", sourceDir)).
		File(ReportPath), nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
