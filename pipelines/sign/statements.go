package sign

//lint:file-ignore SA1019 in-toto-golang v0.11.0 (required by trivy v0.74.0) deprecates its SLSA v1 structs for protobuf ones; the JSON they write is unchanged.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
	"github.com/paved-ci/paved/pipelines/trust"
)

// Predicate types paved attaches and checks (see pipelines/trust, which a
// test keeps equal to cosign's and in-toto's constants).
const (
	PredicateCycloneDX  = trust.PredicateCycloneDX
	PredicateVuln       = trust.PredicateVuln
	PredicateProvenance = trust.PredicateProvenance
)

// PredicateURI resolves a cosign type name or returns a URI unchanged.
func PredicateURI(t string) (string, error) { return trust.PredicateURI(t) }

// VulnScan is the input of the vulnerability attestation.
type VulnScan struct {
	// Report is the scanner's JSON report (Trivy JSON: Results[].Vulnerabilities[].Severity);
	// it becomes the predicate's scanner.result unchanged.
	Report         []byte
	ScannerURI     string // e.g. pkg:github/aquasecurity/trivy@0.74.0
	ScannerVersion string
	DBURI          string
	DBVersion      string
	Started        time.Time
	Finished       time.Time
}

// Provenance is what paved knows of the run that built the image.
type Provenance struct {
	SourceRepo string // git remote URL
	Commit     string // full commit SHA
	Ref        string // branch or tag built
	// BuilderID identifies the build platform (SLSA builder.id), e.g. the
	// CI workflow URL; defaults to paved's own identifier.
	BuilderID string
	// BuildType defaults to paved's build type URI.
	BuildType string
	// Parameters are the user-controlled build inputs (platforms,
	// Dockerfile, build args names...). Never put secrets here.
	Parameters map[string]any
	// RunURL is the CI run's page, when known.
	RunURL       string
	InvocationID string
	Started      time.Time
	Finished     time.Time
	// Dependencies are resolved inputs (base images) by name → sha256 digest.
	Dependencies map[string]string
}

// Default identifiers for provenance.
const (
	DefaultBuilderID = "https://github.com/paved-ci/paved"
	DefaultBuildType = "https://github.com/paved-ci/paved/build/v1"
)

// ProvenanceFromEnv fills run details from GitHub Actions or GitLab CI
// variables (getenv is os.Getenv in CI). Fields already set win.
func ProvenanceFromEnv(p Provenance, getenv func(string) string) Provenance {
	set := func(dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
		}
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
		if server != "" && repo != "" && run != "" {
			url := server + "/" + repo + "/actions/runs/" + run
			if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
				url += "/attempts/" + a
			}
			set(&p.RunURL, url)
			set(&p.InvocationID, url)
		}
		if server != "" && getenv("GITHUB_WORKFLOW_REF") != "" {
			set(&p.BuilderID, server+"/"+getenv("GITHUB_WORKFLOW_REF"))
		}
		if server != "" && repo != "" {
			set(&p.SourceRepo, server+"/"+repo)
		}
		set(&p.Commit, getenv("GITHUB_SHA"))
		set(&p.Ref, getenv("GITHUB_REF"))
	}
	if getenv("GITLAB_CI") == "true" {
		set(&p.RunURL, getenv("CI_JOB_URL"))
		set(&p.InvocationID, getenv("CI_JOB_URL"))
		if u := getenv("CI_PROJECT_URL"); u != "" && getenv("CI_CONFIG_PATH") != "" {
			set(&p.BuilderID, u+"/-/blob/"+getenv("CI_COMMIT_SHA")+"/"+getenv("CI_CONFIG_PATH"))
		}
		set(&p.SourceRepo, getenv("CI_PROJECT_URL"))
		set(&p.Commit, getenv("CI_COMMIT_SHA"))
		set(&p.Ref, getenv("CI_COMMIT_REF_NAME"))
	}
	return p
}

func (p Provenance) predicate() ([]byte, error) {
	builder := p.BuilderID
	if builder == "" {
		builder = DefaultBuilderID
	}
	buildType := p.BuildType
	if buildType == "" {
		buildType = DefaultBuildType
	}
	ext := map[string]any{}
	if p.SourceRepo != "" {
		ext["source"] = map[string]any{"uri": p.SourceRepo, "ref": p.Ref}
	}
	if len(p.Parameters) > 0 {
		ext["parameters"] = p.Parameters
	}
	var deps []slsa1.ResourceDescriptor
	if p.SourceRepo != "" && p.Commit != "" {
		deps = append(deps, slsa1.ResourceDescriptor{URI: gitURI(p.SourceRepo, p.Ref), Digest: map[string]string{"gitCommit": p.Commit}})
	}
	for n, d := range p.Dependencies {
		algo, hex, ok := strings.Cut(d, ":")
		if !ok {
			return nil, fmt.Errorf("provenance dependency %q: digest %q is not algo:hex", n, d)
		}
		deps = append(deps, slsa1.ResourceDescriptor{Name: n, Digest: map[string]string{algo: hex}})
	}
	sortDescriptors(deps)
	pred := slsa1.ProvenancePredicate{
		BuildDefinition: slsa1.ProvenanceBuildDefinition{
			BuildType:            buildType,
			ExternalParameters:   ext,
			ResolvedDependencies: deps,
		},
		RunDetails: slsa1.ProvenanceRunDetails{
			Builder:       slsa1.Builder{ID: builder},
			BuildMetadata: slsa1.BuildMetadata{InvocationID: p.InvocationID},
		},
	}
	if !p.Started.IsZero() {
		t := p.Started.UTC()
		pred.RunDetails.BuildMetadata.StartedOn = &t
	}
	if !p.Finished.IsZero() {
		t := p.Finished.UTC()
		pred.RunDetails.BuildMetadata.FinishedOn = &t
	}
	if p.RunURL != "" {
		pred.RunDetails.Byproducts = append(pred.RunDetails.Byproducts, slsa1.ResourceDescriptor{Name: "ci-run", URI: p.RunURL})
	}
	return json.Marshal(pred)
}

func gitURI(repo, ref string) string {
	u := repo
	if !strings.HasPrefix(u, "git+") {
		u = "git+" + u
	}
	if ref != "" {
		u += "@" + ref
	}
	return u
}

func sortDescriptors(d []slsa1.ResourceDescriptor) {
	// Source first (no name), then by name: stable bytes for equal input.
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j-1].Name > d[j].Name; j-- {
			d[j-1], d[j] = d[j], d[j-1]
		}
	}
}

func (v VulnScan) predicate() ([]byte, error) {
	if !json.Valid(v.Report) {
		return nil, errors.New("vulnerability report is not valid JSON (want the scanner's JSON report, e.g. trivy --format json)")
	}
	uri := v.ScannerURI
	if uri == "" {
		uri = "pkg:github/aquasecurity/trivy"
	}
	p := vulnPredicate{
		Scanner: vulnScanner{
			URI: uri, Version: v.ScannerVersion,
			DB:     vulnDB{URI: v.DBURI, Version: v.DBVersion},
			Result: json.RawMessage(v.Report),
		},
		Metadata: vulnMetadata{ScanStartedOn: v.Started.UTC(), ScanFinishedOn: v.Finished.UTC()},
	}
	return json.Marshal(p)
}

// vulnPredicate is cosign's vuln predicate (cosign attest --type vuln),
// field for field, so that reading it does not link cosign's libraries; a
// test keeps the two equal.
type vulnPredicate struct {
	Invocation struct {
		Parameters any    `json:"parameters"`
		URI        string `json:"uri"`
		EventID    string `json:"event_id"`
		BuilderID  string `json:"builder.id"`
	} `json:"invocation"`
	Scanner  vulnScanner  `json:"scanner"`
	Metadata vulnMetadata `json:"metadata"`
}

type vulnScanner struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
	DB      vulnDB `json:"db"`
	Result  any    `json:"result"`
}

type vulnDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

type vulnMetadata struct {
	ScanStartedOn  time.Time `json:"scanStartedOn"`
	ScanFinishedOn time.Time `json:"scanFinishedOn"`
}
