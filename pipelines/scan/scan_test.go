package scan_test

import (
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/scan"
)

func TestOfflineNeverDownloads(t *testing.T) {
	o := scan.Options{Offline: true, DBRepository: "mirror.example.com/trivy-db"}
	if a := o.DownloadArgs(); a != nil {
		t.Fatalf("offline mode downloads: %v", a)
	}
	args := strings.Join(o.ScanArgs("image", "/in/image.tar"), " ")
	for _, w := range []string{"--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-check-update", "--input /in/image.tar", "--list-all-pkgs", "--format json", "--cache-dir " + scan.CacheDir} {
		if !strings.Contains(args, w) {
			t.Errorf("offline scan args lack %q: %s", w, args)
		}
	}
}

func TestOnlineDownloadsFromOverriddenRepository(t *testing.T) {
	o := scan.Options{DBRepository: "mirror.example.com/trivy-db:2", License: true}
	d := strings.Join(o.DownloadArgs(), " ")
	if !strings.Contains(d, "--download-db-only") || !strings.Contains(d, "--db-repository mirror.example.com/trivy-db:2") {
		t.Errorf("download args: %s", d)
	}
	s := o.ScanArgs("fs", "/src")
	if s[len(s)-1] != "/src" || s[1] != "fs" {
		t.Errorf("fs target not last: %v", s)
	}
	js := strings.Join(s, " ")
	if !strings.Contains(js, "--scanners vuln,secret,misconfig,license") || !strings.Contains(js, "--skip-db-update") || strings.Contains(js, "--offline-scan") {
		t.Errorf("scan args: %s", js)
	}
}

func TestUnknownScannerRejected(t *testing.T) {
	if err := (scan.Options{Scanners: []string{"vuln", "sast"}}).Validate(); err == nil || !strings.Contains(err.Error(), `"sast"`) {
		t.Errorf("Validate = %v", err)
	}
}

func TestTrivyImageIsVersion0740(t *testing.T) {
	ref := images.MustDefault().Ref(images.Trivy)
	if !strings.Contains(ref, "trivy:0.74.0") {
		t.Errorf("trivy image %q is not trivy 0.74.0", ref)
	}
}
