// Package ci turns a paved results directory (results.json plus the report
// files it lists) into what each CI system understands: GitHub Actions step
// outputs, summary and annotations; a GitLab dotenv report and report
// artifacts at fixed paths; a terminal summary on a laptop.
//
// It is engine-free and deliberately light: only the standard library,
// pipelines/results and go-githubactions, so the host command that uses it
// (ci/cmd/paved-ci) builds in seconds on a cold CI runner.
package ci

import (
	"fmt"
	"strings"
)

// Provider is the CI system a report is written for.
type Provider string

const (
	Local  Provider = "local"
	GitHub Provider = "github"
	GitLab Provider = "gitlab"
)

// Providers lists every provider, for flag help and errors.
var Providers = []Provider{Local, GitHub, GitLab}

// Getenv looks up an environment variable; tests pass a map lookup.
type Getenv func(string) string

// Detect picks the provider from the variables each system documents as
// always set in a job: GITHUB_ACTIONS=true (GitHub Actions) and
// GITLAB_CI=true (GitLab CI). Neither set means a laptop (Local). Both set
// is ambiguous (e.g. a GitLab job started from a GitHub runner image that
// leaked its env) and is an error, so a report never goes to the wrong place.
func Detect(getenv Getenv) (Provider, error) {
	gh := strings.EqualFold(getenv("GITHUB_ACTIONS"), "true")
	gl := strings.EqualFold(getenv("GITLAB_CI"), "true")
	switch {
	case gh && gl:
		return "", fmt.Errorf("both GITHUB_ACTIONS=true and GITLAB_CI=true are set: cannot tell the CI system apart; pass --provider github or --provider gitlab")
	case gh:
		return GitHub, nil
	case gl:
		return GitLab, nil
	}
	return Local, nil
}

// ParseProvider reads a --provider value; "auto" or "" detects.
func ParseProvider(s string, getenv Getenv) (Provider, error) {
	switch p := Provider(strings.ToLower(strings.TrimSpace(s))); p {
	case "", "auto":
		return Detect(getenv)
	case Local, GitHub, GitLab:
		return p, nil
	}
	names := make([]string, len(Providers))
	for i, p := range Providers {
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown provider %q: use auto, %s", s, strings.Join(names, ", "))
}
