package publish

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/regconn"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/tags"
)

// ShipOptions are one publish of a build. With no Repos it publishes to
// the embedded registry (the default: nothing leaves the Dagger session,
// and later stages such as scan and sign still get a registry reference).
type ShipOptions struct {
	Repos []string
	Tags  tags.Options
	// CIEnv holds the CI variables the tag rules read (GITHUB_*, CI_*);
	// RefArgs, when set, override them (a module sees no host env).
	CIEnv   map[string]string
	RefArgs tags.Args
	Auth    []RegistryAuth
	// DockerConfig is a Docker config.json with "auths" entries.
	DockerConfig   *dagger.Secret
	AllowOverwrite bool
	// Insecure lists registry hosts spoken to over plain HTTP; CA is a
	// PEM bundle trusted besides the system roots.
	Insecure []string
	CA       []byte
	AuthHint string
	Retry    Retry
	// Annotations for the index; nil mirrors the first variant's
	// org.opencontainers.image.* labels.
	Annotations map[string]string
	// Name is the repository name in the embedded registry; default the
	// git remote's last path element, else "app".
	Name string
	// Embedded is a registry the caller started (StartRegistry) and keeps
	// for later stages; nil starts one when Repos is empty.
	Embedded *Embedded

	// Git and Images are the pipeline's (the stage fills them from State).
	Git    gitmeta.Info
	Images *images.Set
}

// Validate checks what needs no engine and no registry: every target
// repository and the tag options, so a typo fails before the build.
func (o ShipOptions) Validate() error {
	if err := (regconn.Options{CA: o.CA, Insecure: o.Insecure}).Validate(); err != nil {
		return err
	}
	for _, r := range o.Repos {
		if _, err := ParseRepo(r, o.Insecure); err != nil {
			return err
		}
	}
	return o.Tags.Validate()
}

// Ship publishes the platform variants of one build under the tags the
// rules give, and returns the record for results.json: the digest
// reference, every repo:tag written and the platforms.
func Ship(ctx context.Context, client *dagger.Client, variants []*dagger.Container, o ShipOptions) (*results.Image, error) {
	sp, err := PrepareShip(ctx, client, variants, o)
	if err != nil {
		return nil, err
	}
	return sp.Finish(ctx)
}

// ShipPrepared is a ship's image in every target by digest, tags pending.
type ShipPrepared struct {
	staged    *Staged
	img       *results.Image
	engineRef func(string) string
	insecure  []string
	// CA is the registry CA the targets were reached with (sign needs it too).
	CA []byte
}

// Refs are repository@digest in each target, as this process reaches them
// (what a signer signs before Finish writes the tags).
func (sp *ShipPrepared) Refs() []string { return sp.staged.Refs() }

// EngineRef rewrites a reference this process used into the engine's
// address of the embedded registry (localhost:5000), as Image reports it;
// other references are returned as they are.
func (sp *ShipPrepared) EngineRef(ref string) string { return sp.engineRef(ref) }

// PlainHTTP reports whether ref's registry is spoken to over plain HTTP (the
// embedded registry, or a host the caller listed as insecure), so that a
// signer reaching the same reference does not try HTTPS: a Dagger service
// hostname is neither loopback nor a private address, so
// go-containerregistry would otherwise pick HTTPS.
func (sp *ShipPrepared) PlainHTTP(ref string) bool {
	host, _, _ := strings.Cut(ref, "/")
	return isInsecure(host, sp.insecure)
}

// Image is what will be recorded: reference, digest, platforms; no tags yet.
func (sp *ShipPrepared) Image() *results.Image { return sp.img }

// Finish writes the tags and returns the complete record.
func (sp *ShipPrepared) Finish(ctx context.Context) (*results.Image, error) {
	res, err := sp.staged.Finish(ctx)
	if err != nil {
		return nil, err
	}
	img := *sp.img
	for _, w := range res.Written {
		img.Tags = append(img.Tags, sp.engineRef(w.Ref()))
	}
	return &img, nil
}

// PrepareShip is Ship up to the tags: the variants pushed once, the index
// copied by digest into every target, release tags checked. With Embedded
// set the engine pushes there and no target gets a tag before Finish.
func PrepareShip(ctx context.Context, client *dagger.Client, variants []*dagger.Container, o ShipOptions) (*ShipPrepared, error) {
	if len(variants) == 0 {
		return nil, errors.New("nothing to publish: no platform variants (build first)")
	}
	plan, err := tags.For(o.Git, o.CIEnv, o.RefArgs, o.Tags)
	if err != nil {
		return nil, err
	}
	// the platforms go into the record; reading them first also fails
	// early on a variant that does not resolve
	platforms := make([]string, len(variants))
	for i, v := range variants {
		p, err := v.Platform(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the platform of variant %d: %w", i+1, err)
		}
		platforms[i] = string(p)
	}
	ann := o.Annotations
	if ann == nil {
		if ann, err = labelAnnotations(ctx, variants[0]); err != nil {
			return nil, err
		}
	}
	po := Options{
		Repos: o.Repos, Tags: plan.Tags, Auth: o.Auth, DockerConfig: o.DockerConfig,
		Annotations: ann, AllowOverwrite: o.AllowOverwrite, Insecure: o.Insecure, CA: o.CA,
		Retry: o.Retry, AuthHint: o.AuthHint,
	}
	ephemeral := len(o.Repos) == 0
	if !ephemeral && o.Embedded != nil {
		po.Staging = o.Embedded
		po.Insecure = append(po.Insecure, o.Embedded.Host())
	}
	if ephemeral {
		emb := o.Embedded
		if emb == nil {
			imgs := o.Images
			if imgs == nil {
				imgs = images.MustDefault()
			}
			if emb, err = StartRegistry(ctx, client, imgs); err != nil {
				return nil, err
			}
		}
		po.Staging = emb
		po.Repos = []string{emb.Endpoint + "/paved/" + repoName(o.Name, o.Git.RemoteURL)}
		po.Insecure = append(po.Insecure, emb.Host())
	}
	st, err := PrepareVariants(ctx, client, variants, po)
	if err != nil {
		if errors.Is(err, ErrAlreadyPublished) {
			return nil, fmt.Errorf("%w; a release is published once: re-run with allow-overwrite only if you mean to replace it", err)
		}
		return nil, err
	}
	// In the embedded registry, report the address the engine pulls
	// from (localhost:5000), not the module's endpoint.
	engineRef := func(s string) string {
		if ephemeral {
			return strings.Replace(s, po.Staging.Endpoint, po.Staging.Address, 1)
		}
		return s
	}
	img := &results.Image{Ref: engineRef(po.Repos[0]) + "@" + st.Digest(), Digest: st.Digest(), Ephemeral: ephemeral, Platforms: platforms}
	return &ShipPrepared{staged: st, img: img, engineRef: engineRef, insecure: po.Insecure, CA: o.CA}, nil
}

var repoChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// repoName is the embedded repository name: explicit, else the git
// remote's last path element ("https://github.com/acme/Hello.git" →
// "hello"), else "app".
func repoName(explicit, remote string) string {
	n := explicit
	if n == "" && remote != "" {
		n = strings.TrimSuffix(path.Base(strings.TrimRight(strings.ReplaceAll(remote, ":", "/"), "/")), ".git")
	}
	n = strings.Trim(repoChars.ReplaceAllString(strings.ToLower(n), "-"), "._-")
	if n == "" {
		return "app"
	}
	return n
}

// Stage is the publish stage: Ship on the variants the build left in the
// state. Git and Images come from the state.
type Stage struct {
	Opts ShipOptions
}

func (Stage) String() string { return "publish" }

// Skip skips when the build left nothing to publish.
func (Stage) Skip(st *pipeline.State) (bool, string) {
	if len(st.Variants) == 0 {
		return true, "no image was built"
	}
	return false, ""
}

// Run publishes st.Variants and records the image in st.Results.Image.
func (s Stage) Run(ctx context.Context, st *pipeline.State) error {
	o := s.Opts
	o.Git = st.Git
	if o.Images == nil {
		o.Images = st.Images
	}
	img, err := Ship(ctx, st.Client, st.Variants, o)
	if err != nil {
		return err
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
