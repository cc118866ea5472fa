package golden

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/sign"
)

// ShipOptions are ship's inputs: the check's, plus where and how to
// publish and sign.
type ShipOptions struct {
	Options
	// Publish: target repositories (none: the embedded, ephemeral
	// registry), credentials, tag rules.
	Publish publish.ShipOptions
	// Sign: key and password, or keyless; none signs with an ephemeral key.
	Sign sign.Inputs
	// SignParameters are recorded in the SLSA provenance (never secrets).
	SignParameters map[string]any
}

// ShipOutcome adds what signing produced.
type ShipOutcome struct {
	*Outcome
	Signature *sign.Result
	// Embedded is the run's registry: the engine pushes there, and with no
	// target repository it is the (ephemeral) target. It lives as long as
	// the Dagger session.
	Embedded *publish.Embedded
}

// shipRun is what the sign and publish stages of one run share: the image
// prepared in every target by digest, its tags not yet written.
type shipRun struct {
	publish  publish.ShipOptions
	sign     sign.Stage
	prepared *publish.ShipPrepared
	// registry waits for the embedded registry, started beside the
	// first stages (nil: publish.Embedded was given).
	registry func() (*publish.Embedded, error)
}

// embedded is the run's registry, once it has started.
func (r *shipRun) embedded() (*publish.Embedded, error) {
	if r.registry != nil {
		emb, err := r.registry()
		if err != nil {
			return nil, err
		}
		r.publish.Embedded = emb
	}
	return r.publish.Embedded, nil
}

// prepare pushes the image once and copies it by digest into every target
// (no tag yet), and records it.
func (r *shipRun) prepare(ctx context.Context, st *pipeline.State) error {
	if _, err := r.embedded(); err != nil {
		return err
	}
	o := r.publish
	o.Git = st.Git
	if o.Images == nil {
		o.Images = st.Images
	}
	prep, err := publish.PrepareShip(ctx, st.Client, st.Variants, o)
	if err != nil {
		return err
	}
	r.prepared = prep
	st.Results.Image = prep.Image()
	return nil
}

// signStage signs the image by digest in every target repository before
// any tag points at it, and attaches the scan's SBOM and report and the
// provenance.
type signStage struct{ run *shipRun }

func (signStage) String() string { return "sign" }
func (signStage) Mandated() bool { return true }

func (signStage) Skip(st *pipeline.State) (bool, string) {
	if len(st.Variants) == 0 {
		return true, "no image was built"
	}
	return false, ""
}

func (s signStage) Run(ctx context.Context, st *pipeline.State) error {
	if err := s.run.prepare(ctx, st); err != nil {
		return err
	}
	for _, ref := range s.run.prepared.Refs() {
		signer := s.run.sign
		signer.Reachable = func(string) (string, error) { return ref, nil }
		signer.Inputs.Insecure = s.run.prepared.PlainHTTP(ref)
		signer.Inputs.RegistryCA = s.run.prepared.CA
		if signer.Inputs.Cosign == nil {
			signer.Inputs.Cosign = s.cosign(st)
		}
		if err := signer.Run(ctx, st); err != nil {
			return fmt.Errorf("%s: %w (no tag was written)", ref, err)
		}
	}
	// recorded in the same address form as the image itself
	st.Results.Image.Signature = s.run.prepared.EngineRef(st.Results.Image.Signature)
	return nil
}

// cosign runs the cosign image with the run's embedded registry bound,
// under the address paved's process reaches it at.
func (s signStage) cosign(st *pipeline.State) sign.ContainerRunner {
	r := sign.ContainerRunner{Client: st.Client, Image: st.Images.Ref(images.Cosign)}
	if emb := s.run.publish.Embedded; emb != nil {
		r.Registries = map[string]sign.Route{emb.Host(): {Service: emb.Service, Alias: "paved-registry", Port: publish.RegistryPort}}
	}
	return r
}

// publishStage writes the tags of the image the sign stage prepared (or
// prepares it itself when signing was skipped).
type publishStage struct{ run *shipRun }

func (publishStage) String() string { return "publish" }

func (publishStage) Skip(st *pipeline.State) (bool, string) {
	if len(st.Variants) == 0 {
		return true, "no image was built"
	}
	return false, ""
}

func (p publishStage) Run(ctx context.Context, st *pipeline.State) error {
	if p.run.prepared == nil {
		if err := p.run.prepare(ctx, st); err != nil {
			return err
		}
	}
	img, err := p.run.prepared.Finish(ctx)
	if err != nil {
		return err
	}
	if st.Results.Image != nil {
		img.Signature = st.Results.Image.Signature
	}
	st.Results.Image = img
	return nil
}

// ShipStages are what ship adds after CheckStages: sign, then publish.
// The whole path is build, (lint), test, scan, sign, publish. The image
// reaches every target registry by digest before signing — a cosign
// signature is stored beside it there — but no tag is written until it is
// signed, so a tag never points at an unsigned image.
func ShipStages(run *shipRun) []pipeline.Stage {
	return []pipeline.Stage{signStage{run}, publishStage{run}}
}

// ValidateShipArgs checks what ship's arguments alone can tell — the
// check arguments, target repositories, tag rules, insecure registry
// hosts — before anything is read or run. Ship checks them again.
func ValidateShipArgs(opts ShipOptions) error {
	if err := ValidateArgs(opts.Options); err != nil {
		return err
	}
	return opts.Publish.Validate()
}

// Ship runs ShipStages on src.
func Ship(ctx context.Context, client *dagger.Client, src *dagger.Directory, imgs *images.Set, opts ShipOptions) (*ShipOutcome, error) {
	if err := ValidateShipArgs(opts); err != nil {
		return nil, err
	}
	out := &ShipOutcome{}
	run := &shipRun{
		publish: opts.Publish,
		sign:    sign.Stage{Inputs: opts.Sign, Parameters: opts.SignParameters, OnResult: func(r *sign.Result) { out.Signature = r }},
	}
	b, stages, err := Plan(ctx, src, imgs, &opts.Options, ShipStages(run)...)
	if err != nil {
		return nil, err
	}
	if run.publish.Name == "" {
		run.publish.Name = appName(opts.Options)
	}
	if run.publish.Embedded == nil {
		// the engine pushes here; the module copies to the targets by
		// digest, signs, then tags (or, with no target, this is it). It
		// starts while the first stages run: only sign needs it.
		run.registry = sync.OnceValues(func() (*publish.Embedded, error) {
			return publish.StartRegistry(ctx, client, imgs)
		})
		go run.registry()
	}
	st := pipeline.NewState(client, src, imgs, gitmeta.Info{})
	st.Results.Builder = b.Name()
	forbid, _ := Mandated(opts.Options) // checked by Validate
	st.Skip, st.ForbidSkip = set(opts.Skip), set(forbid)
	runErr, err := runWithGit(ctx, stages, st, opts.Git)
	if err != nil {
		return nil, err
	}
	if out.Embedded, err = run.embedded(); err != nil && runErr == nil {
		return nil, err
	}
	out.Outcome = &Outcome{State: st, Err: runErr}
	if out.Results, err = ResultsDir(client, st); err != nil {
		return nil, err
	}
	if runErr != nil && !opts.ContinueOnFailure {
		return out, runErr
	}
	return out, nil
}

// appName names the app's repository in the embedded registry: the app's
// folder in a monorepo, so that two apps shipped in one session do not
// share a repository (and collide on its immutable tags); "" leaves the
// git remote's name.
func appName(o Options) string {
	if d := strings.Trim(path.Clean("/"+o.App.Dir), "/"); d != "" {
		return path.Base(d)
	}
	return ""
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
