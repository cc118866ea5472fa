package report

import (
	"context"
	"errors"

	"github.com/aquasecurity/trivy/pkg/types"
)

// Outputs are every format derived from one trivy report.
type Outputs struct {
	SARIF     []byte
	CycloneDX []byte // nil when the report lists no packages (see NoSBOM)
	GitLab    []byte
	Markdown  []byte
	Counts    map[string]int
	// Findings are the report's findings, worst first (for the gate).
	Findings []Finding
	// NoSBOM says why CycloneDX is nil.
	NoSBOM error
}

// Options for Convert.
type Options struct {
	TrivyVersion string // empty: from the report
	Target       string // scanned path for SARIF ROOTPATH (filesystem scans)
	GitLab       GitLabOptions
	TopN         int // Markdown rows; 0 uses TopN
}

// Convert derives all formats from one report. A missing package list
// only drops the SBOM (reported in NoSBOM); any other failure is an error.
func Convert(ctx context.Context, r *types.Report, opts Options) (*Outputs, error) {
	var out Outputs
	var err error
	if out.SARIF, err = SARIF(r, SARIFOptions{Version: opts.TrivyVersion, Target: opts.Target}); err != nil {
		return nil, err
	}
	out.CycloneDX, err = CycloneDX(ctx, r, opts.TrivyVersion)
	if errors.Is(err, ErrNoPackages) {
		out.NoSBOM = err
	} else if err != nil {
		return nil, err
	}
	if out.GitLab, err = GitLab(r, opts.GitLab); err != nil {
		return nil, err
	}
	top := opts.TopN
	if top == 0 {
		top = TopN
	}
	out.Findings = Findings(r)
	out.Markdown = markdown(r.ArtifactName, out.Findings, top)
	out.Counts = Counts(out.Findings)
	return &out, nil
}
