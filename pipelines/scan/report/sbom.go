package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aquasecurity/trivy/pkg/clock"
	trivycdx "github.com/aquasecurity/trivy/pkg/report/cyclonedx"
	"github.com/aquasecurity/trivy/pkg/types"
)

// ErrNoPackages is returned by CycloneDX for a report without packages:
// trivy lists packages only with --list-all-pkgs, and an SBOM built
// without them would claim the artifact has no components.
var ErrNoPackages = errors.New("the trivy report lists no packages, so it cannot give an SBOM (run trivy with --list-all-pkgs)")

// CycloneDX renders the report as a CycloneDX JSON SBOM with trivy's own
// writer (spec version 1.7 with trivy v0.74.0), vulnerabilities included.
// The BOM timestamp is the scan time, so one report gives one SBOM.
func CycloneDX(ctx context.Context, r *types.Report, trivyVersion string) ([]byte, error) {
	if PackageCount(r) == 0 {
		return nil, ErrNoPackages
	}
	if trivyVersion == "" {
		trivyVersion = r.Trivy.Version
	}
	if !r.CreatedAt.IsZero() {
		ctx = clock.With(ctx, r.CreatedAt)
	}
	var buf bytes.Buffer
	if err := trivycdx.NewWriter(&buf, trivyVersion).Write(ctx, *r); err != nil {
		return nil, fmt.Errorf("cyclonedx: %w", err)
	}
	return buf.Bytes(), nil
}
