// Package regauth knows how the hosted registries paved pushes to expect
// to be logged in to from CI: the username that goes with the short-lived
// token a CI job mints from its OIDC identity, how to mint it and how long
// it lasts. It runs no cloud CLI and holds no secret: the token is minted
// in the CI job and reaches paved as a secret (env:NAME). paved uses it to
// refuse a username the registry is known to refuse, before anything is
// built, and to say what to fix when a registry refuses the credentials.
package regauth

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Provider is one kind of hosted registry.
type Provider struct {
	ID   string // short name: "ecr", "gar", "acr", "ghcr", "gitlab", ...
	Name string // "Amazon ECR"
	// Usernames are the usernames the registry accepts with Token. When
	// Strict, any other username is refused before a request is made
	// (the registry would refuse it too); otherwise they are the usual
	// choice and only named in hints.
	Usernames []string
	Strict    bool
	// anyPrefix also accepts usernames starting with it (Google's
	// credential helpers log in as _dcgcloud_token and the like).
	anyPrefix string
	// Token is how a CI job gets the password, without a stored key.
	Token string
	// Lifetime is how long that token lasts.
	Lifetime string
	// Pattern is the host shape, for the docs and near-miss errors.
	Pattern string
	match   *regexp.Regexp
	// near matches hosts that look meant for this provider but are not
	// one of its registry hosts (a typo, a missing account or location).
	near *regexp.Regexp
}

// nullGUID is ACR's username for an access token from az acr login
// --expose-token: the token itself says who is calling.
const nullGUID = "00000000-0000-0000-0000-000000000000"

// untilRevoked is the lifetime of a stored token (no minting in the job).
const untilRevoked = "until revoked"

// Providers lists the registries paved knows, most specific first.
var Providers = []Provider{
	{
		ID: "ecr", Name: "Amazon ECR", Usernames: []string{"AWS"}, Strict: true,
		Token:    "aws ecr get-login-password --region REGION, after assuming an IAM role with the job's OIDC token (aws-actions/configure-aws-credentials role-to-assume)",
		Lifetime: "12 h",
		Pattern:  "ACCOUNT.dkr.ecr.REGION.amazonaws.com",
		// dkr-ecr.REGION.on.aws is the dual-stack (IPv6) endpoint.
		match: regexp.MustCompile(`^[0-9]{12}\.(dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|dkr-ecr(-fips)?\.[a-z0-9-]+\.on\.aws)$`),
		near:  regexp.MustCompile(`(^|\.)ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`),
	},
	{
		ID: "ecr-public", Name: "Amazon ECR Public", Usernames: []string{"AWS"}, Strict: true,
		Token:    "aws ecr-public get-login-password --region us-east-1, after assuming an IAM role with the job's OIDC token",
		Lifetime: "12 h",
		Pattern:  "public.ecr.aws",
		match:    regexp.MustCompile(`^public\.ecr\.aws$`),
	},
	{
		// _json_key is a service-account key file: accepted because the
		// registry accepts it, but the docs steer to access tokens.
		ID: "gar", Name: "Google Artifact Registry", Usernames: []string{"oauth2accesstoken", "_json_key", "_json_key_base64"}, Strict: true, anyPrefix: "_",
		Token:    "gcloud auth print-access-token, after Workload Identity Federation with the job's OIDC token (google-github-actions/auth token_format: access_token)",
		Lifetime: "1 h",
		Pattern:  "LOCATION-docker.pkg.dev (and gcr.io, which Artifact Registry serves)",
		match:    regexp.MustCompile(`^([a-z0-9-]+-docker\.pkg\.dev|([a-z]+\.)?gcr\.io)$`),
		near:     regexp.MustCompile(`(^|\.)pkg\.dev$`),
	},
	{
		// Service principals (app ID) and repository-scoped tokens (token
		// name) log in with other usernames, so ACR is not strict.
		ID: "acr", Name: "Azure Container Registry", Usernames: []string{nullGUID},
		Token:    "az acr login --name REGISTRY --expose-token --output tsv --query accessToken, after azure/login with the job's OIDC token",
		Lifetime: "3 h",
		Pattern:  "REGISTRY.azurecr.io",
		match:    regexp.MustCompile(`^[a-z0-9]{5,50}\.azurecr\.(io|cn|us)$`),
		near:     regexp.MustCompile(`\.azurecr\.[a-z]+$`),
	},
	{
		ID: "ghcr", Name: "GitHub Container Registry", Usernames: []string{"${{ github.actor }}"},
		Token:    "the job's GITHUB_TOKEN with permissions: packages: write (the package must also grant the repository write access)",
		Lifetime: "the job",
		Pattern:  "ghcr.io",
		match:    regexp.MustCompile(`^ghcr\.io$`),
	},
	{
		ID: "gitlab", Name: "GitLab container registry", Usernames: []string{"gitlab-ci-token"},
		Token:    "$CI_JOB_TOKEN (or the $CI_REGISTRY_USER / $CI_REGISTRY_PASSWORD pair GitLab sets in every job)",
		Lifetime: "the job",
		Pattern:  "registry.gitlab.com (self-managed: $CI_REGISTRY)",
		match:    regexp.MustCompile(`^registry\.gitlab\.com$`),
	},
	{
		ID: "dockerhub", Name: "Docker Hub",
		Token:    "a personal or organization access token with write scope",
		Lifetime: untilRevoked,
		Pattern:  "docker.io",
		match:    regexp.MustCompile(`^(index|registry-1)\.docker\.io$`),
	},
	{
		ID: "artifactory", Name: "JFrog Artifactory",
		Token:    "an access token from Artifactory's OIDC token exchange (POST /access/api/v1/oidc/token with the job's OIDC token), or a service user's scoped access token",
		Lifetime: "what the OIDC integration sets",
		Pattern:  "COMPANY.jfrog.io or your own host",
		match:    regexp.MustCompile(`^[a-z0-9-]+\.jfrog\.io$`),
	},
}

// Detect returns the provider serving host ("ghcr.io", "x.azurecr.io:443"),
// if paved knows it. Matching ignores case and a port.
func Detect(host string) (Provider, bool) {
	h := hostOnly(host)
	for _, p := range Providers {
		if p.match.MatchString(h) {
			return p, true
		}
	}
	return Provider{}, false
}

func hostOnly(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return h
}

// CheckHost refuses a host that looks meant for a known provider but is
// not one of its registry hosts, e.g. an ECR host without the account ID.
func CheckHost(host string) error {
	h := hostOnly(host)
	if _, ok := Detect(h); ok {
		return nil
	}
	for _, p := range Providers {
		if p.near != nil && p.near.MatchString(h) {
			return fmt.Errorf("registry %s looks like %s but is not one of its registry hosts: write it as %s", host, p.Name, p.Pattern)
		}
	}
	return nil
}

// CheckUsername refuses a username a strict provider would refuse, naming
// the one it wants and how to get the token. The token is never looked at.
func CheckUsername(host, username string) error {
	if err := CheckHost(host); err != nil {
		return err
	}
	p, ok := Detect(host)
	if !ok || !p.Strict {
		return nil
	}
	for _, u := range p.Usernames {
		if username == u {
			return nil
		}
	}
	if p.anyPrefix != "" && strings.HasPrefix(username, p.anyPrefix) {
		return nil
	}
	return fmt.Errorf("registry %s is %s, which takes the username %q, not %q: use %s with the token from %s (valid %s)",
		host, p.Name, p.Usernames[0], username, p.Usernames[0], p.Token, p.Lifetime)
}

// Hint says, for a registry that refused credentials, what that provider
// wants; "" for a registry paved does not know.
func Hint(host string) string {
	p, ok := Detect(host)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants ", p.Name)
	if len(p.Usernames) > 0 {
		fmt.Fprintf(&b, "the username %s with ", p.Usernames[0])
	}
	fmt.Fprintf(&b, "%s (valid %s)", p.Token, p.Lifetime)
	if p.Lifetime != untilRevoked {
		// a token minted in an earlier job or stored as a CI secret
		// has expired by the time it is used
		b.WriteString("; mint it in the job that runs paved and pass it as a secret (env:NAME)")
	}
	return b.String()
}
