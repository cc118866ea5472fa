// Sign signs published images by digest with cosign (built in), attaches
// SBOM, vulnerability-scan and SLSA provenance attestations, and verifies
// images as a deploy gate.
package main

import (
	"context"
	"encoding/json"

	"dagger/sign/internal/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/sign"
)

// Sign is paved's sign stage.
type Sign struct{}

// Image signs image (repo@sha256:..., never a tag) and attaches the given
// attestations plus SLSA provenance. With no key and no OIDC token it signs
// with an ephemeral key and returns its public key (for local runs only).
// Returns the result as JSON: image, digest, mode, public key, tags.
// +cache="never"
func (m *Sign) Image(
	ctx context.Context,
	// The image by digest, e.g. ghcr.io/acme/app@sha256:...
	image string,
	// Encrypted cosign private key (cosign.key).
	// +optional
	key *dagger.Secret,
	// Password of the key.
	// +optional
	password *dagger.Secret,
	// OIDC token for keyless signing (audience sigstore).
	// +optional
	oidcToken *dagger.Secret,
	// Fulcio URL for a private Sigstore.
	// +optional
	fulcioUrl string,
	// Rekor URL for a private Sigstore.
	// +optional
	rekorUrl string,
	// CycloneDX SBOM (JSON) to attest.
	// +optional
	sbom *dagger.File,
	// Trivy JSON report to attest as the vulnerability scan.
	// +optional
	vulnReport *dagger.File,
	// Source repository URL for the provenance.
	// +optional
	sourceRepo string,
	// Commit built, for the provenance.
	// +optional
	commit string,
	// Registry username.
	// +optional
	registryUsername string,
	// Registry password or token.
	// +optional
	registryPassword *dagger.Secret,
	// Docker config.json with credentials for several registries.
	// +optional
	dockerConfig *dagger.Secret,
	// Tool image overrides as name=reference, e.g. cosign=mirror.example.com/cosign:v2.6.5.
	// +optional
	imageOverride []string,
) (string, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	secrets, err := bridge.Secrets(ctx, lib, key, password, oidcToken, registryPassword, dockerConfig)
	if err != nil {
		return "", err
	}
	files, err := bridge.Files(ctx, lib, sbom, vulnReport)
	if err != nil {
		return "", err
	}
	imgs, err := images.FromArgs(imageOverride, "", "")
	if err != nil {
		return "", err
	}
	res, err := sign.SignImage(ctx, sign.Inputs{
		Cosign: sign.ContainerRunner{Client: lib, Image: imgs.Ref(images.Cosign)},
		Image:  image, Key: secrets[0], Password: secrets[1], IDToken: secrets[2],
		FulcioURL: fulcioUrl, RekorURL: rekorUrl, SBOM: files[0], VulnReport: files[1],
		Provenance:       &sign.Provenance{SourceRepo: sourceRepo, Commit: commit},
		RegistryUsername: registryUsername, RegistryPassword: secrets[3], DockerConfig: secrets[4],
	})
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	return string(b) + "\n", err
}

// Verify is the deploy gate: the image's signature (trusted key or keyless
// identity), every required attestation about its digest, and no attested
// vulnerability above maxSeverity. Fails with each failed check's reason.
// +cache="never"
func (m *Sign) Verify(
	ctx context.Context,
	// Image by tag or digest.
	image string,
	// Trusted cosign public key (cosign.pub).
	// +optional
	publicKey *dagger.File,
	// Keyless: the signer's identity (certificate SAN).
	// +optional
	identity string,
	// Keyless: the OIDC issuer.
	// +optional
	issuer string,
	// Attestations that must be present: cyclonedx, vuln, slsaprovenance1.
	// +optional
	require []string,
	// Highest severity allowed in the attested scan (NONE, LOW, MEDIUM, HIGH, CRITICAL).
	// +optional
	maxSeverity string,
	// Digest the reference must resolve to (sha256:...).
	// +optional
	digest string,
	// Registry username.
	// +optional
	registryUsername string,
	// Registry password or token.
	// +optional
	registryPassword *dagger.Secret,
	// Tool image overrides as name=reference, e.g. cosign=mirror.example.com/cosign:v2.6.5.
	// +optional
	imageOverride []string,
) (string, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	files, err := bridge.Files(ctx, lib, publicKey)
	if err != nil {
		return "", err
	}
	secrets, err := bridge.Secrets(ctx, lib, registryPassword)
	if err != nil {
		return "", err
	}
	imgs, err := images.FromArgs(imageOverride, "", "")
	if err != nil {
		return "", err
	}
	return sign.Gate(ctx, image, files[0], sign.Policy{Identity: identity, Issuer: issuer, Require: require, MaxSeverity: maxSeverity, Digest: digest},
		sign.Access{Username: registryUsername, Password: secrets[0], Cosign: sign.ContainerRunner{Client: lib, Image: imgs.Ref(images.Cosign)}})
}
