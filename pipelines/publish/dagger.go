package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/tags"
)

// RegistryPort is the port the embedded registry listens on, inside the
// engine and in the address the engine pushes to (localhost:5000).
const RegistryPort = 5000

// Embedded is a started ephemeral registry (distribution, from the
// images table). It lives until Stop or the end of the Dagger session and
// keeps what is pushed to it in the service container's filesystem.
type Embedded struct {
	Service *dagger.Service
	// Address is what the engine pushes to: with RegistryService set,
	// Dagger points this hostname at the service and keeps the port.
	Address string
	// Endpoint is host:port at which the module's Go code reaches the
	// same registry, over plain HTTP.
	Endpoint string
}

// StartRegistry starts the embedded registry and keeps it running: a
// service passed only as RegistryService is started for one push and
// stopped after it, which would lose the image.
func StartRegistry(ctx context.Context, client *dagger.Client, imgs *images.Set) (*Embedded, error) {
	svc := client.Container().
		From(imgs.Ref(images.Registry)).
		WithExposedPort(RegistryPort).
		AsService()
	started, err := svc.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded registry (image %s): %w", imgs.Ref(images.Registry), err)
	}
	// Later queries go to the started instance (by the ID Start returned),
	// so the push and the module's reads reach the same registry.
	ep, err := started.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: RegistryPort})
	if err != nil {
		return nil, fmt.Errorf("embedded registry endpoint: %w", err)
	}
	if host, _, err := net.SplitHostPort(ep); err == nil && !resolves(ctx, host) {
		// Go code outside the engine's network (paved used as a library
		// under `dagger run`, the engine tests) cannot resolve a service
		// hostname: reach the registry through a tunnel from this host.
		tunnel, err := client.Host().Tunnel(started).Start(ctx)
		if err != nil {
			return nil, fmt.Errorf("tunnelling to the embedded registry from this host: %w", err)
		}
		if ep, err = tunnel.Endpoint(ctx); err != nil {
			return nil, fmt.Errorf("embedded registry tunnel endpoint: %w", err)
		}
	}
	return &Embedded{Service: started, Address: fmt.Sprintf("localhost:%d", RegistryPort), Endpoint: ep}, nil
}

// resolves reports whether this process can resolve host (module code in
// the engine's network can; a process on the engine's host cannot). A
// variable so that tests can take the host's side.
var resolves = func(ctx context.Context, host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := net.DefaultResolver.LookupHost(ctx, host)
	return err == nil
}

// Stop stops the embedded registry.
func (e *Embedded) Stop(ctx context.Context) error {
	_, err := e.Service.Stop(ctx)
	return err
}

// Host is the endpoint's host:port; module code must speak plain HTTP to it.
func (e *Embedded) Host() string { return e.Endpoint }

// ForModule rewrites a reference the engine returned for Address
// ("localhost:5000/app:t@sha256:...") to one the module's Go code can
// reach ("<endpoint>/app@sha256:...").
func (e *Embedded) ForModule(engineRef string) (string, error) {
	repo, digest, err := splitDigest(engineRef)
	if err != nil {
		return "", err
	}
	path, ok := strings.CutPrefix(repo, e.Address+"/")
	if !ok {
		return "", fmt.Errorf("reference %q is not in the embedded registry %s", engineRef, e.Address)
	}
	return e.Endpoint + "/" + path + "@" + digest, nil
}

// RegistryAuth is a credential for the engine's push and the module's
// tagging: the token stays a dagger.Secret until the module reads its
// plaintext into memory.
type RegistryAuth struct {
	Registry string // host[:port]
	Username string
	Secret   *dagger.Secret
	// Source names the argument or secret, for error messages.
	Source string
}

// PushVariants publishes the platform variants once, as one
// multi-platform index, at address (repo:tag). svc, when not nil, is the
// registry service the address's hostname points to. Returns the engine's
// reference with digest.
func PushVariants(ctx context.Context, client *dagger.Client, variants []*dagger.Container, address string, auth []RegistryAuth, svc *dagger.Service) (string, error) {
	if len(variants) == 0 {
		return "", errors.New("nothing to publish: the build produced no platform variants")
	}
	ctr := client.Container()
	for _, a := range auth {
		if a.Secret == nil {
			return "", fmt.Errorf("registry credential %s for %s has no secret", a.Source, a.Registry)
		}
		ctr = ctr.WithRegistryAuth(engineHost(a.Registry), a.Username, a.Secret)
	}
	ref, err := ctr.Publish(ctx, address, dagger.ContainerPublishOpts{PlatformVariants: variants, RegistryService: svc})
	if err != nil {
		return "", fmt.Errorf("pushing %d platform variants to %s: %w", len(variants), address, err)
	}
	return ref, nil
}

// engineHost is the registry address the engine keys credentials by: it
// names Docker Hub docker.io, where go-containerregistry says
// index.docker.io.
func engineHost(h string) string {
	if h == "index.docker.io" || h == "registry-1.docker.io" {
		return "docker.io"
	}
	return h
}

// Tarball exports the variants as one OCI image-layout tarball with a
// multi-platform index.
func Tarball(client *dagger.Client, variants []*dagger.Container) *dagger.File {
	return client.Container().AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants})
}

// Options are one publish from the pipeline.
type Options struct {
	// Repos get every tag; the first one receives the engine's push
	// unless Staging is set.
	Repos []string
	Tags  []tags.Tag
	Auth  []RegistryAuth
	// DockerConfig is a Docker config.json body with an "auths" entry.
	DockerConfig *dagger.Secret
	// Annotations go on the index (see IndexAnnotations).
	Annotations    map[string]string
	AllowOverwrite bool
	// Insecure lists registry hosts spoken to over plain HTTP.
	Insecure []string
	// CA is a PEM bundle trusted besides the system roots.
	CA    []byte
	Retry Retry
	// AuthHint says which argument to set for a host without a
	// credential; %s is the host.
	AuthHint string
	// Staging, when set, receives the engine's push; the module then
	// copies to Repos, so immutable tags are checked against the real
	// digest before any target registry is written.
	Staging *Embedded
}

// ErrAlreadyPublished is returned when every tag exists and is immutable:
// there is no tag the engine can push to without overwriting a release.
// Publish through Staging (or allow overwrite) to compare digests.
var ErrAlreadyPublished = errors.New("every tag already exists and is immutable")

// Publish pushes variants once and puts the result under every tag in
// every repository. Without Staging the engine pushes to the first
// repository under a tag chosen not to overwrite a release; with Staging
// it pushes to the embedded registry and the module copies from there.
func Publish(ctx context.Context, client *dagger.Client, variants []*dagger.Container, o Options) (Result, error) {
	st, err := PrepareVariants(ctx, client, variants, o)
	if err != nil {
		return st.partialResult(), err
	}
	return st.Finish(ctx)
}

// Staged is an image pushed and copied by digest into every target, its
// tags decided and not yet written (see Publisher.Prepare).
type Staged struct {
	p    *Publisher
	prep *Prepared
}

// Refs are repository@digest in each target, as this process reaches them.
func (s *Staged) Refs() []string { return s.prep.Refs() }

// Digest is the published digest.
func (s *Staged) Digest() string { return s.prep.Digest() }

// Finish writes the tags.
func (s *Staged) Finish(ctx context.Context) (Result, error) { return s.p.Finish(ctx, s.prep) }

func (s *Staged) partialResult() Result {
	if s == nil {
		return Result{}
	}
	return s.prep.partialResult()
}

// PrepareVariants pushes the variants once (to Staging when set, else to
// the first repository under a tag that is not there yet), copies the
// index by digest into every repository and checks the tags; it writes no
// further tag. With Staging, no target holds a tag until Finish.
func PrepareVariants(ctx context.Context, client *dagger.Client, variants []*dagger.Container, o Options) (*Staged, error) {
	auth, err := resolveAuth(ctx, o.Auth, o.DockerConfig)
	if err != nil {
		return nil, err
	}
	p := &Publisher{Auth: auth, Insecure: append([]string(nil), o.Insecure...), CA: o.CA, Retry: o.Retry, AuthHint: o.AuthHint}
	repos, err := p.parseRepos(o.Repos)
	if err != nil {
		return nil, err
	}
	if err := checkTags(o.Tags); err != nil {
		return nil, err
	}
	before, err := p.Inspect(ctx, o.Repos, o.Tags)
	if err != nil {
		return nil, err
	}
	req := Request{Repos: o.Repos, Tags: o.Tags, Annotations: o.Annotations, AllowOverwrite: o.AllowOverwrite, Before: before}

	if o.Staging != nil {
		// a staging repository of its own: no target holds a tag before Finish
		addr := o.Staging.Address + "/paved-staging/" + lastPath(repos[0]) + ":" + o.Tags[0].Name
		ref, err := PushVariants(ctx, client, variants, addr, nil, o.Staging.Service)
		if err != nil {
			return nil, err
		}
		if req.Source, err = o.Staging.ForModule(ref); err != nil {
			return nil, err
		}
		p.Insecure = append(p.Insecure, o.Staging.Host())
		return prepare(ctx, p, req)
	}

	tag, err := pushTag(o.Tags, before[repos[0].Name()], o.AllowOverwrite)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (tags %s); nothing was pushed", repos[0].Name(), err, strings.Join(names(o.Tags), ", "))
	}
	ref, err := PushVariants(ctx, client, variants, repos[0].Tag(tag).String(), o.Auth, nil)
	if err != nil {
		return nil, err
	}
	_, digest, err := splitDigest(ref)
	if err != nil {
		return nil, err
	}
	req.Source = repos[0].Digest(digest).String()
	return prepare(ctx, p, req)
}

func prepare(ctx context.Context, p *Publisher, req Request) (*Staged, error) {
	prep, err := p.Prepare(ctx, req)
	st := &Staged{p: p, prep: prep}
	if err != nil {
		return st, err
	}
	return st, nil
}

// pushTag picks the tag the engine pushes to: one that does not exist yet
// (immutable first, so a new release never depends on a moving tag), else
// an existing moving tag (which moves anyway).
func pushTag(ts []tags.Tag, existing map[string]string, allowOverwrite bool) (string, error) {
	order := append([]tags.Tag(nil), ts...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Immutable && !order[j].Immutable })
	for _, t := range order {
		if existing[t.Name] == "" {
			return t.Name, nil
		}
	}
	for _, t := range order {
		if !t.Immutable {
			return t.Name, nil
		}
	}
	if allowOverwrite {
		return order[0].Name, nil
	}
	return "", ErrAlreadyPublished
}

// resolveAuth reads the secrets' plaintext into memory only.
func resolveAuth(ctx context.Context, auth []RegistryAuth, dockerConfig *dagger.Secret) (*Auth, error) {
	var creds []Credential
	for _, a := range auth {
		if a.Secret == nil {
			return nil, fmt.Errorf("registry credential %s for %s has no secret", a.Source, a.Registry)
		}
		tok, err := a.Secret.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the registry token %s for %s: %w", a.Source, a.Registry, err)
		}
		creds = append(creds, Credential{Registry: a.Registry, Username: a.Username, Token: strings.TrimSpace(tok), Source: a.Source})
	}
	var cfg []byte
	if dockerConfig != nil {
		s, err := dockerConfig.Plaintext(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the docker config secret: %w", err)
		}
		cfg = []byte(s)
	}
	return NewAuth(creds, cfg)
}

// splitDigest splits "repo[:tag]@sha256:..." into repo and digest.
func splitDigest(ref string) (string, string, error) {
	base, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return "", "", fmt.Errorf("the engine returned %q, which has no digest", ref)
	}
	if _, err := name.NewDigest("example.invalid/x@" + digest); err != nil {
		return "", "", fmt.Errorf("the engine returned %q: digest does not parse: %v", ref, err)
	}
	if i := strings.LastIndex(base, ":"); i > strings.LastIndex(base, "/") {
		base = base[:i]
	}
	return base, digest, nil
}

func lastPath(r name.Repository) string {
	s := r.RepositoryStr()
	return s[strings.LastIndex(s, "/")+1:]
}

func names(ts []tags.Tag) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// IndexAnnotations picks the org.opencontainers.image.* labels, which
// the index mirrors as annotations (registries and UIs read the index).
func IndexAnnotations(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, "org.opencontainers.image.") && v != "" {
			out[k] = v
		}
	}
	return out
}
