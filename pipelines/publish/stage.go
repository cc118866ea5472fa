package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/tags"
)

// Stage is the publish stage. With no Repos it publishes to the embedded
// registry (the default: nothing leaves the Dagger session, and later
// stages such as scan and sign still get a registry reference).
type Stage struct {
	Repos []string
	Tags  tags.Options
	// CIEnv holds the CI variables the tag rules read (GITHUB_*, CI_*).
	CIEnv          map[string]string
	Auth           []RegistryAuth
	DockerConfig   *dagger.Secret
	AllowOverwrite bool
	Insecure       []string
	AuthHint       string
	Retry          Retry
	// Annotations for the index; nil mirrors the first variant's
	// org.opencontainers.image.* labels.
	Annotations map[string]string
	// Name is the repository name in the embedded registry ("app").
	Name string
}

func (Stage) String() string { return "publish" }

// Skip skips when the build left nothing to publish.
func (Stage) Skip(st *pipeline.State) (bool, string) {
	if len(st.Variants) == 0 {
		return true, "no image was built"
	}
	return false, ""
}

// Run publishes st.Variants and records the result.
func (s Stage) Run(ctx context.Context, st *pipeline.State) error {
	ref, err := tags.Resolve(st.Git, s.CIEnv)
	if err != nil {
		return err
	}
	plan, err := tags.Compute(ref, s.Tags)
	if err != nil {
		return err
	}
	ann := s.Annotations
	if ann == nil {
		if ann, err = labelAnnotations(ctx, st.Variants[0]); err != nil {
			return err
		}
	}
	o := Options{
		Repos: s.Repos, Tags: plan.Tags, Auth: s.Auth, DockerConfig: s.DockerConfig,
		Annotations: ann, AllowOverwrite: s.AllowOverwrite, Insecure: s.Insecure,
		Retry: s.Retry, AuthHint: s.AuthHint,
	}
	ephemeral := len(s.Repos) == 0
	if ephemeral {
		emb, err := StartRegistry(ctx, st.Client, st.Images)
		if err != nil {
			return err
		}
		n := s.Name
		if n == "" {
			n = "app"
		}
		o.Staging = emb
		o.Repos = []string{emb.Endpoint + "/paved/" + n}
		o.Insecure = append(o.Insecure, emb.Host())
	}
	res, err := Publish(ctx, st.Client, st.Variants, o)
	if err != nil {
		if errors.Is(err, ErrAlreadyPublished) {
			return fmt.Errorf("%w; a release is published once: re-run with allow-overwrite only if you mean to replace it", err)
		}
		return err
	}
	repo0 := o.Repos[0]
	if ephemeral {
		repo0 = strings.Replace(repo0, o.Staging.Endpoint, o.Staging.Address, 1)
	}
	img := &results.Image{Ref: repo0 + "@" + res.Digest, Digest: res.Digest, Ephemeral: ephemeral}
	for _, w := range res.Written {
		img.Tags = append(img.Tags, w.Ref())
	}
	st.Results.Image = img
	return nil
}

// ociLabels are the org.opencontainers.image.* keys the index mirrors.
var ociLabels = []string{
	"created", "authors", "url", "documentation", "source", "version", "revision",
	"vendor", "licenses", "ref.name", "title", "description", "base.name", "base.digest",
}

// labelAnnotations reads the OCI labels of c, one field per key: asking
// for the label list would need one object lookup per label.
func labelAnnotations(ctx context.Context, c *dagger.Container) (map[string]string, error) {
	labels := map[string]string{}
	for _, k := range ociLabels {
		v, err := c.Label(ctx, "org.opencontainers.image."+k)
		if err != nil {
			return nil, fmt.Errorf("reading image label %s: %w", k, err)
		}
		labels["org.opencontainers.image."+k] = v
	}
	return IndexAnnotations(labels), nil
}
