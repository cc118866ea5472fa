// Package publish puts a built image under its tags in one or more
// registries.
//
// The engine-free part (this file) works on an image index that is
// already in a registry by digest: it adds tags by writing the same
// manifest (no layer is uploaded again), copies the index to further
// registries (blobs the target has are skipped), refuses to move an
// immutable release tag to another digest, retries 5xx/429 a bounded
// number of times and reports exactly which tags it wrote. The Dagger
// glue (dagger.go) pushes the platform variants once and then calls it.
package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/paved-ci/paved/pipelines/regauth"
	"github.com/paved-ci/paved/pipelines/regconn"
	"github.com/paved-ci/paved/pipelines/tags"
)

// Retry bounds how often one registry request is retried on 408, 429
// and 5xx, waiting Base, 2×Base, 4×Base... in between.
type Retry struct {
	Attempts int           // total tries per request; default 4
	Base     time.Duration // first wait; default 500ms
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	return r
}

var retryCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// Publisher talks to registries. The zero value works anonymously.
type Publisher struct {
	Auth  *Auth
	Retry Retry
	// Insecure lists hosts spoken to over plain HTTP (a Dagger service
	// endpoint, for example). Loopback hosts always are.
	Insecure []string
	// CA is a PEM bundle trusted besides the system roots.
	CA []byte
	// Transport replaces the HTTP transport (tests count requests).
	Transport http.RoundTripper
	// AuthHint says, for a host with no credential, which argument or
	// secret to set; %s is the host.
	AuthHint string
}

// State is what tags pointed at, read before publishing:
// repository → tag → digest ("" when the tag did not exist).
type State map[string]map[string]string

// Request is one publish.
type Request struct {
	// Source is the image (usually an index) already pushed, by digest:
	// "registry.example.com/team/app@sha256:...".
	Source string
	// Repos get every tag: "ghcr.io/org/app", "registry.example.com/app".
	// A repository other than Source's gets a copy of the image first.
	Repos []string
	Tags  []tags.Tag
	// Annotations are set on the index (org.opencontainers.image.*);
	// this makes a new index digest over the same platform manifests.
	Annotations map[string]string
	// AllowOverwrite lets an immutable tag move to another digest.
	AllowOverwrite bool
	// Before is the state read before Source was pushed (see Inspect);
	// nil reads it now. The glue passes it so the tag its own push
	// wrote is not mistaken for an older release.
	Before State
}

// Action is what happened to one tag.
type Action string

const (
	Created   Action = "created"
	Moved     Action = "moved"
	Unchanged Action = "unchanged" // already at the digest: nothing written
)

// Written is one tag in one repository.
type Written struct {
	Repo     string
	Tag      string
	Digest   string
	Action   Action
	Previous string // digest the tag had before, for Moved
}

// Ref is repo:tag.
func (w Written) Ref() string { return w.Repo + ":" + w.Tag }

// Result lists exactly what was done. On error it holds what was done
// before the failure.
type Result struct {
	Digest string // the published digest (after annotations)
	// Copied are the repositories the image was copied into.
	Copied  []string
	Written []Written
}

// Refs lists repo:tag@digest of every tag that now points at Digest.
func (r Result) Refs() []string {
	var out []string
	for _, w := range r.Written {
		out = append(out, w.Ref()+"@"+w.Digest)
	}
	return out
}

// ParseRepo parses a repository that must name its registry.
func ParseRepo(s string, insecure []string) (name.Repository, error) {
	raw := strings.TrimSpace(s)
	if strings.Contains(raw, "://") {
		return name.Repository{}, fmt.Errorf("repository %q: write it without a scheme, e.g. ghcr.io/org/app", s)
	}
	if i := strings.IndexAny(raw, "@"); i >= 0 {
		return name.Repository{}, fmt.Errorf("repository %q: give the repository without a digest, e.g. ghcr.io/org/app", s)
	}
	first, rest, ok := strings.Cut(raw, "/")
	if !ok || rest == "" || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		return name.Repository{}, fmt.Errorf("repository %q has no registry host: write it in full, e.g. ghcr.io/org/app or docker.io/org/app for Docker Hub", s)
	}
	if _, err := normalizeHost(first); err != nil {
		return name.Repository{}, fmt.Errorf("repository %q: %v", s, err)
	}
	if last := rest[strings.LastIndex(rest, "/")+1:]; strings.Contains(last, ":") {
		return name.Repository{}, fmt.Errorf("repository %q: give the repository without a tag (tags come from the tag rules or extra tags)", s)
	}
	opts := []name.Option{name.StrictValidation}
	if isInsecure(first, insecure) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRepository(raw, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %q is not valid: %v (want lowercase path components of a-z 0-9 . _ -, e.g. ghcr.io/org/app)", s, err)
	}
	return r, nil
}

func isInsecure(host string, list []string) bool {
	for _, h := range list {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

func (p *Publisher) options(ctx context.Context) []remote.Option {
	r := p.Retry.withDefaults()
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(p.Auth),
		remote.WithRetryBackoff(remote.Backoff{Duration: r.Base, Factor: 2, Jitter: 0.1, Steps: r.Attempts}),
		remote.WithRetryStatusCodes(retryCodes...),
	}
	switch {
	case p.Transport != nil:
		opts = append(opts, remote.WithTransport(p.Transport))
	case len(p.CA) > 0:
		// checked by Validate before anything ran
		if t, err := (regconn.Options{CA: p.CA}).Transport(remote.DefaultTransport.(*http.Transport)); err == nil {
			opts = append(opts, remote.WithTransport(t))
		}
	}
	return opts
}

// Inspect reads the digest each tag has in each repository.
func (p *Publisher) Inspect(ctx context.Context, repos []string, ts []tags.Tag) (State, error) {
	rs, err := p.parseRepos(repos)
	if err != nil {
		return nil, err
	}
	if err := checkTags(ts); err != nil {
		return nil, err
	}
	puller, err := remote.NewPuller(p.options(ctx)...)
	if err != nil {
		return nil, err
	}
	return p.inspect(ctx, puller, rs, ts)
}

// inspect is Inspect through a given puller (one ping and token per
// registry for a whole publish).
func (p *Publisher) inspect(ctx context.Context, puller *remote.Puller, rs []name.Repository, ts []tags.Tag) (State, error) {
	st := State{}
	for _, r := range rs {
		m := map[string]string{}
		st[r.Name()] = m
		for _, t := range ts {
			d, err := puller.Head(ctx, r.Tag(t.Name))
			if err != nil {
				if isNotFound(err) {
					m[t.Name] = ""
					continue
				}
				return nil, p.explain(r.RegistryStr(), "reading tag "+r.Tag(t.Name).String(), err)
			}
			m[t.Name] = d.Digest.String()
		}
	}
	return st, nil
}

type step struct {
	repo   name.Repository
	tag    tags.Tag
	prev   string
	action Action
}

// Publish puts Source under every tag in every repository.
func (p *Publisher) Publish(ctx context.Context, req Request) (Result, error) {
	prep, err := p.Prepare(ctx, req)
	if err != nil {
		return prep.partialResult(), err
	}
	return p.Finish(ctx, prep)
}

// Prepared is an image copied by digest into every target repository,
// with its tags decided and checked, and none written yet: the window in
// which paved signs it, so that no tag ever points at an unsigned image.
type Prepared struct {
	res   Result
	img   remote.Taggable
	steps []step
	rs    []name.Repository
	// the transports Prepare authenticated, reused by Finish
	puller *remote.Puller
	pusher *remote.Pusher
}

// Digest is the image's digest in every target (after annotations).
func (pr *Prepared) Digest() string { return pr.res.Digest }

// Refs are repository@digest in each target, as this process reaches them.
func (pr *Prepared) Refs() []string {
	out := make([]string, len(pr.rs))
	for i, r := range pr.rs {
		out[i] = r.Digest(pr.res.Digest).String()
	}
	return out
}

func (pr *Prepared) partialResult() Result {
	if pr == nil {
		return Result{}
	}
	return pr.res
}

// Prepare reads the source, decides every tag write (refusing a moved
// release tag before anything is written) and copies the image by digest
// into every target repository. It writes no tag.
func (p *Publisher) Prepare(ctx context.Context, req Request) (*Prepared, error) {
	pr := &Prepared{}
	res := &pr.res
	src, err := name.NewDigest(strings.TrimSpace(req.Source), p.nameOpts(req.Source)...)
	if err != nil {
		return pr, fmt.Errorf("source image %q: want a reference by digest, e.g. registry.example.com/app@sha256:<64 hex> (%v)", req.Source, err)
	}
	rs, err := p.parseRepos(req.Repos)
	pr.rs = rs
	if err != nil {
		return pr, err
	}
	if err := checkTags(req.Tags); err != nil {
		return pr, err
	}
	opts := p.options(ctx)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return pr, err
	}
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return pr, err
	}
	desc, err := puller.Get(ctx, src)
	if err != nil {
		return pr, p.explain(src.RegistryStr(), "reading source image "+src.String(), err)
	}
	var img remote.Taggable = desc
	digest := desc.Digest
	if len(req.Annotations) > 0 {
		annotated, d, err := annotate(desc, req.Annotations)
		if err != nil {
			return pr, fmt.Errorf("annotating %s: %v", src, err)
		}
		img, digest = annotated, d
	}
	res.Digest = digest.String()

	before := req.Before
	if before == nil {
		if before, err = p.inspect(ctx, puller, rs, req.Tags); err != nil {
			return pr, err
		}
	}

	// Decide every step before writing anything, so a refused release
	// tag leaves the registries as they were.
	var steps []step
	var conflicts []string
	for _, r := range rs {
		prevs := before[r.Name()]
		for _, t := range req.Tags {
			prev := prevs[t.Name]
			s := step{repo: r, tag: t, prev: prev}
			switch {
			case prev == res.Digest:
				s.action = Unchanged
			case prev == "":
				s.action = Created
			case t.Immutable && !req.AllowOverwrite:
				conflicts = append(conflicts, fmt.Sprintf("%s is %s, this build is %s", r.Tag(t.Name), prev, res.Digest))
				continue
			default:
				s.action = Moved
			}
			steps = append(steps, s)
		}
	}
	if len(conflicts) > 0 {
		return pr, fmt.Errorf("refusing to move immutable tags (a release tag must always mean the same image):\n  %s\nbuild the same image again, publish a new version, or set allow-overwrite to replace them", strings.Join(conflicts, "\n  "))
	}
	// Immutable tags first: a failure must not leave latest pointing
	// at an image whose version tag was never written.
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].tag.Immutable && !steps[j].tag.Immutable })

	srcDigest := src.Context().Digest(res.Digest)
	for _, r := range rs {
		if r.Name() == src.Context().Name() && len(req.Annotations) == 0 {
			continue // already there
		}
		// Push writes the platform manifests and blobs the target lacks
		// (HEAD first; same-registry blobs are mounted), then the index.
		if err := pusher.Push(ctx, r.Digest(res.Digest), img); err != nil {
			return pr, p.partial(*res, steps, p.explain(r.RegistryStr(), "copying "+srcDigest.String()+" to "+r.Name(), err))
		}
		if r.Name() != src.Context().Name() {
			res.Copied = append(res.Copied, r.Name())
		}
	}
	pr.img, pr.steps, pr.puller, pr.pusher = img, steps, puller, pusher
	return pr, nil
}

// Finish writes the prepared tags, immutable ones first, and reads every
// one back.
func (p *Publisher) Finish(ctx context.Context, pr *Prepared) (Result, error) {
	res := pr.res
	puller, pusher := pr.puller, pr.pusher
	if puller == nil || pusher == nil {
		opts := p.options(ctx)
		var err error
		if puller, err = remote.NewPuller(opts...); err != nil {
			return res, err
		}
		if pusher, err = remote.NewPusher(opts...); err != nil {
			return res, err
		}
	}
	img, steps := pr.img, pr.steps
	for _, s := range steps {
		w := Written{Repo: s.repo.Name(), Tag: s.tag.Name, Digest: res.Digest, Action: s.action, Previous: s.prev}
		if s.action != Unchanged {
			if err := pusher.Put(ctx, s.repo.Tag(s.tag.Name), img); err != nil {
				return res, p.partial(res, steps, p.explain(s.repo.RegistryStr(), "writing tag "+w.Ref(), err))
			}
		}
		res.Written = append(res.Written, w)
	}
	// Read back: a registry that accepted a PUT but keeps another digest
	// (tag immutability settings, a proxy) must not pass silently.
	for _, w := range res.Written {
		r, _ := name.NewRepository(w.Repo, p.nameOpts(w.Repo)...)
		d, err := puller.Head(ctx, r.Tag(w.Tag))
		if err != nil {
			return res, p.explain(r.RegistryStr(), "reading back "+w.Ref(), err)
		}
		if d.Digest.String() != res.Digest {
			return res, fmt.Errorf("registry %s: %s reads back as %s after writing %s; does the repository forbid overwriting tags?", r.RegistryStr(), w.Ref(), d.Digest, res.Digest)
		}
	}
	return res, nil
}

// partial wraps err with the tags written and the tags not written.
func (p *Publisher) partial(res Result, steps []step, err error) error {
	done := map[string]bool{}
	var wrote, missing []string
	for _, w := range res.Written {
		done[w.Ref()] = true
		wrote = append(wrote, w.Ref())
	}
	for _, s := range steps {
		ref := s.repo.Name() + ":" + s.tag.Name
		if !done[ref] {
			missing = append(missing, ref)
		}
	}
	if len(wrote) == 0 {
		wrote = []string{"none"}
	}
	return fmt.Errorf("%w\n  tags written: %s\n  tags NOT written: %s", err, strings.Join(wrote, ", "), strings.Join(missing, ", "))
}

func (p *Publisher) parseRepos(repos []string) ([]name.Repository, error) {
	if len(repos) == 0 {
		return nil, errors.New("no repository to publish to: give at least one, e.g. ghcr.io/org/app")
	}
	var out []name.Repository
	seen := map[string]bool{}
	for _, s := range repos {
		r, err := ParseRepo(s, p.Insecure)
		if err != nil {
			return nil, err
		}
		if !seen[r.Name()] {
			seen[r.Name()] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func (p *Publisher) nameOpts(ref string) []name.Option {
	host, _, _ := strings.Cut(strings.TrimSpace(ref), "/")
	if isInsecure(host, p.Insecure) {
		return []name.Option{name.Insecure}
	}
	return nil
}

func checkTags(ts []tags.Tag) error {
	if len(ts) == 0 {
		return errors.New("no tags to publish")
	}
	for _, t := range ts {
		if !tags.Valid(t.Name) {
			return fmt.Errorf("tag %q is not a valid OCI tag: want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", t.Name)
		}
	}
	return nil
}

// annotate sets annotations on an index (or a single image's manifest).
func annotate(desc *remote.Descriptor, ann map[string]string) (remote.Taggable, v1.Hash, error) {
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, v1.Hash{}, err
		}
		out := mutate.Annotations(idx, ann).(v1.ImageIndex)
		d, err := out.Digest()
		return out, d, err
	}
	im, err := desc.Image()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	out := mutate.Annotations(im, ann).(v1.Image)
	d, err := out.Digest()
	return out, d, err
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

// explain turns a registry error into one that says what to do. Secret
// values are scrubbed from whatever the registry sent back.
func (p *Publisher) explain(host, what string, err error) error {
	var te *transport.Error
	var msg string
	switch {
	case errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden):
		if p.Auth.Has(host) {
			msg = fmt.Sprintf("registry %s refused the credentials from %s (HTTP %d): check the username, that the token is valid and has push access to this repository", host, p.Auth.source[host], te.StatusCode)
		} else {
			hint := p.AuthHint
			if hint == "" {
				hint = "give a username and token for %s (or a Docker config JSON with an auths entry for it)"
			}
			msg = fmt.Sprintf("registry %s needs credentials (HTTP %d) and none were given for it: %s", host, te.StatusCode, fmt.Sprintf(hint, host))
		}
		if h := regauth.Hint(host); h != "" {
			msg += "; " + h
		}
		if p.Auth != nil && p.Auth.unusable != "" {
			msg += "; " + p.Auth.unusable
		}
		return fmt.Errorf("%s: %s", what, msg)
	case errors.As(err, &te) && isRetried(te.StatusCode):
		msg = fmt.Sprintf("registry %s kept failing with HTTP %d (each request tried %d times with backoff); try again later or check the registry's status: %v", host, te.StatusCode, p.Retry.withDefaults().Attempts, err)
	default:
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || errors.As(err, &ne) {
			msg = fmt.Sprintf("cannot reach registry %s: %v", host, err)
		} else {
			msg = err.Error()
		}
	}
	return fmt.Errorf("%s: %s", what, p.Auth.Scrub(msg))
}

func isRetried(code int) bool {
	for _, c := range retryCodes {
		if c == code {
			return true
		}
	}
	return false
}
