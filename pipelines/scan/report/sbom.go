package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/aquasecurity/trivy/pkg/clock"
	"github.com/aquasecurity/trivy/pkg/sbom/cyclonedx"
	"github.com/aquasecurity/trivy/pkg/types"
)

// ErrNoPackages is returned by CycloneDX for a report without packages:
// trivy lists packages only with --list-all-pkgs, and an SBOM built
// without them would claim the artifact has no components.
var ErrNoPackages = errors.New("the trivy report lists no packages, so it cannot give an SBOM (run trivy with --list-all-pkgs)")

// CycloneDX renders the report as a CycloneDX JSON SBOM, vulnerabilities
// included, with trivy's own marshaler (the one behind
// pkg/report/cyclonedx.Writer; spec version 1.7 with trivy v0.74.0). It is
// written compact, not indented: on large reports indenting doubles the
// cost. The BOM timestamp is the scan time, so one report gives one SBOM.
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
	m := cyclonedx.NewMarshaler(trivyVersion)
	bom, err := m.MarshalReport(ctx, *r)
	if err != nil {
		return nil, fmt.Errorf("cyclonedx: %w", err)
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("cyclonedx: %w", err)
	}
	return buf.Bytes(), nil
}
