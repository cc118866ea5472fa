package sign

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"dagger.io/dagger"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/regconn"
)

// Inputs are what module code passes to SignImage. Secrets arrive as
// *dagger.Secret; their plaintext is read into memory here and handed to
// the core, never put into a container, an argument or an error.
// Module functions that call SignImage must be marked +cache="never".
type Inputs struct {
	// Image is the published image by digest (repo@sha256:...).
	Image string
	// Key and Password: an encrypted cosign private key and its password.
	Key      *dagger.Secret
	Password *dagger.Secret
	// Keyless signing: IDToken (GitLab id_tokens variable), or the GitHub
	// runner's token request URL and token (ACTIONS_ID_TOKEN_REQUEST_*).
	IDToken            *dagger.Secret
	GitHubRequestURL   string
	GitHubRequestToken *dagger.Secret
	FulcioURL          string
	RekorURL           string
	// SBOM (CycloneDX JSON) and VulnReport (Trivy JSON) from the scan stage.
	SBOM       *dagger.File
	VulnReport *dagger.File
	Vuln       VulnScan // scanner details; Report is read from VulnReport
	Provenance *Provenance
	// Registry credentials: username + password/token, or a Docker config.json.
	RegistryUsername string
	RegistryPassword *dagger.Secret
	DockerConfig     *dagger.Secret
	// Insecure speaks plain HTTP to the image's registry (the embedded
	// registry of a ship run, or one the user opted into).
	Insecure bool
	// RegistryCA is a PEM bundle trusted besides the system roots.
	RegistryCA  []byte
	Annotations map[string]string
	// Cosign runs the cosign CLI for keyless signing: a ContainerRunner in
	// module code.
	Cosign Runner
}

// SignImage reads the secrets' plaintext and signs in.Image with the core.
func SignImage(ctx context.Context, in Inputs) (*Result, error) {
	var creds Credentials
	var err error
	if creds.Key, err = plaintext(ctx, "key", in.Key); err != nil {
		return nil, err
	}
	if creds.Password, err = plaintext(ctx, "key password", in.Password); err != nil {
		return nil, err
	}
	creds.Password = chompLine(creds.Password)
	if in.IDToken != nil || in.GitHubRequestToken != nil {
		k := &Keyless{GitHubRequestURL: in.GitHubRequestURL, FulcioURL: in.FulcioURL, RekorURL: in.RekorURL}
		if k.IDToken, err = plaintext(ctx, "OIDC token", in.IDToken); err != nil {
			return nil, err
		}
		if k.GitHubRequestToken, err = plaintext(ctx, "GitHub token request token", in.GitHubRequestToken); err != nil {
			return nil, err
		}
		creds.Keyless = k
	}
	reg, err := registryFrom(ctx, in.RegistryUsername, in.RegistryPassword, in.DockerConfig)
	if err != nil {
		return nil, err
	}
	reg.Insecure, reg.CA = in.Insecure, in.RegistryCA
	req := Request{Image: in.Image, Provenance: in.Provenance, Registry: reg, Annotations: in.Annotations, Cosign: in.Cosign}
	if in.SBOM != nil {
		s, err := in.SBOM.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the SBOM file: %w", err)
		}
		req.SBOM = []byte(s)
	}
	if in.VulnReport != nil {
		s, err := in.VulnReport.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the vulnerability report: %w", err)
		}
		v := in.Vuln
		v.Report = []byte(s)
		req.Vuln = &v
	}
	return SignWith(ctx, creds, req)
}

// VerifyImage is the deploy gate for module code: registry credentials as
// secrets, the public key as a file. The verdict is returned even when it
// refuses; callers fail on Verdict.Err().
func VerifyImage(ctx context.Context, image string, publicKey *dagger.File, p Policy, a Access) (*Verdict, error) {
	if publicKey != nil {
		s, err := publicKey.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the public key file: %w", err)
		}
		p.PublicKey = []byte(s)
	}
	if err := a.Conn.Validate(); err != nil {
		return nil, err
	}
	reg, err := registryFrom(ctx, a.Username, a.Password, a.DockerConfig)
	if err != nil {
		return nil, err
	}
	reg.CA = a.Conn.CA
	if ref, err := name.ParseReference(image); err == nil {
		reg.Insecure = a.Conn.IsInsecure(ref.Context().RegistryStr())
	}
	return VerifyWith(ctx, a.Cosign, image, p, reg)
}

// Access is how verify reaches the image's registry: credentials (secrets)
// and, for a company registry, a private CA or an opted-in plain-HTTP host.
type Access struct {
	Username     string
	Password     *dagger.Secret
	DockerConfig *dagger.Secret
	Conn         regconn.Options
	// Cosign runs the cosign CLI for keyless signing: a ContainerRunner in
	// module code.
	Cosign Runner
}

func registryFrom(ctx context.Context, user string, password, dockerConfig *dagger.Secret) (Registry, error) {
	var reg Registry
	var err error
	reg.Username = user
	if reg.Password, err = plaintext(ctx, "registry password", password); err != nil {
		return reg, err
	}
	// a token never holds whitespace: trimmed as publish trims it
	reg.Password = bytes.TrimSpace(reg.Password)
	if reg.DockerConfig, err = plaintext(ctx, "registry docker config", dockerConfig); err != nil {
		return reg, err
	}
	return reg, nil
}

// chompLine drops one final line ending from the key password. A password
// from a secret manager usually arrives with one: file://password.txt, or
// cmd://"pass show cosign", whose output Dagger keeps as printed. Like
// docker login --password-stdin, the line ending is not part of it; other
// whitespace may be, so only that is dropped.
func chompLine(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func plaintext(ctx context.Context, what string, s *dagger.Secret) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	v, err := s.Plaintext(ctx)
	if err != nil {
		// The engine's error names the secret, not its value.
		return nil, fmt.Errorf("reading the %s secret: %w", what, err)
	}
	return []byte(v), nil
}

// Stage is the sign stage of the golden path: it signs the image the
// publish stage recorded and attaches the scan stage's reports.
type Stage struct {
	Inputs Inputs
	// SBOMKind and VulnKind are the State.Reports kinds to attest
	// (defaults "sbom" and "trivy-json").
	SBOMKind, VulnKind string
	// OnResult receives the result (an ephemeral run's public key is only there).
	OnResult func(*Result)
	// Parameters are added to the provenance's build parameters.
	Parameters map[string]any
	// Reachable maps the recorded image reference to one this process can
	// reach (the embedded registry has another address for the engine
	// than for module code); nil uses the reference as it is.
	Reachable func(ref string) (string, error)
}

func (Stage) String() string { return "sign" }

// Mandated: platform policy may forbid skipping signing.
func (Stage) Mandated() bool { return true }

// Skip when nothing was published: there is no digest to sign.
func (Stage) Skip(s *pipeline.State) (bool, string) {
	if s.Results == nil || s.Results.Image == nil || s.Results.Image.Ref == "" {
		return true, "no published image to sign"
	}
	return false, ""
}

// Run signs the published digest and records the signature tag.
func (st Stage) Run(ctx context.Context, s *pipeline.State) error {
	in := st.Inputs
	in.Image = s.Results.Image.Ref
	if st.Reachable != nil {
		ref, err := st.Reachable(in.Image)
		if err != nil {
			return err
		}
		in.Image = ref
	}
	sbomKind, vulnKind := st.SBOMKind, st.VulnKind
	if sbomKind == "" {
		sbomKind = "sbom"
	}
	if vulnKind == "" {
		vulnKind = "trivy-json"
	}
	if in.SBOM == nil {
		in.SBOM = s.Reports[sbomKind]
	}
	if in.VulnReport == nil {
		in.VulnReport = s.Reports[vulnKind]
	}
	if in.Provenance == nil {
		// Inside a module the CI variables are absent unless passed in;
		// then this is the git information alone.
		p := ProvenanceFromEnv(Provenance{SourceRepo: s.Git.RemoteURL, Commit: s.Git.Commit, Ref: s.Git.Branch, Parameters: st.Parameters}, os.Getenv)
		in.Provenance = &p
	}
	if in.Cosign == nil && s.Client != nil && s.Images != nil {
		in.Cosign = ContainerRunner{Client: s.Client, Image: s.Images.Ref(images.Cosign)}
	}
	res, err := SignImage(ctx, in)
	if err != nil {
		return err
	}
	s.Results.Image.Signature = res.SignatureTag
	if st.OnResult != nil {
		st.OnResult(res)
	}
	return nil
}

// Gate is VerifyImage as a deploy gate: the verdict's text when the image
// passes, an error carrying every failed check and the text when not.
func Gate(ctx context.Context, image string, publicKey *dagger.File, p Policy, a Access) (string, error) {
	v, err := VerifyImage(ctx, image, publicKey, p, a)
	if err != nil {
		return "", err
	}
	if err := v.Err(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, v.Text())
	}
	return v.Text(), nil
}
