package golden

import (
	"context"
	"fmt"

	"dagger.io/dagger"

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
	// ForbidSkip names stages platform policy does not let users skip.
	ForbidSkip []string
	// SignParameters are recorded in the SLSA provenance (never secrets).
	SignParameters map[string]any
}

// ShipOutcome adds what signing produced.
type ShipOutcome struct {
	*Outcome
	Signature *sign.Result
	// Embedded is the run's ephemeral registry, when nothing else was the
	// target; it lives as long as the Dagger session.
	Embedded *publish.Embedded
}

// ShipStages is the whole golden path, in its one order: build, (lint),
// test, scan, publish, sign. Publishing comes before signing because a
// cosign signature is stored beside the image, in the registry, by the
// digest the publish wrote; verify refuses the image until it is signed.
func ShipStages(opts ShipOptions, signStage sign.Stage) []pipeline.Stage {
	return append(CheckStages(opts.Options), publish.Stage{Opts: opts.Publish}, signStage)
}

// Ship runs ShipStages on src.
func Ship(ctx context.Context, client *dagger.Client, src *dagger.Directory, imgs *images.Set, opts ShipOptions) (*ShipOutcome, error) {
	opts.Build.Images, opts.Test.Images = imgs, imgs
	if err := opts.prepare(ctx, src); err != nil {
		return nil, err
	}
	out := &ShipOutcome{}
	signStage := sign.Stage{Inputs: opts.Sign, Parameters: opts.SignParameters, OnResult: func(r *sign.Result) { out.Signature = r }}
	if len(opts.Publish.Repos) == 0 && opts.Publish.Embedded == nil {
		// one embedded registry for the run: publish writes to it and
		// sign, in this process, reaches it at its module endpoint
		emb, err := publish.StartRegistry(ctx, client, imgs)
		if err != nil {
			return nil, err
		}
		opts.Publish.Embedded = emb
		out.Embedded = emb
		signStage.Reachable = emb.ForModule
	}
	stages := ShipStages(opts, signStage)
	if err := Validate(opts.Options, stages); err != nil {
		return nil, err
	}
	for _, s := range opts.Skip {
		for _, f := range opts.ForbidSkip {
			if s == f {
				return nil, fmt.Errorf("skip %q: platform policy requires the %s stage; remove it from --skip", s, s)
			}
		}
	}
	git, err := Git(ctx, client, src, imgs, opts.Git)
	if err != nil {
		return nil, err
	}
	st := pipeline.NewState(client, src, imgs, git)
	st.Skip, st.ForbidSkip = set(opts.Skip), set(opts.ForbidSkip)
	runErr := pipeline.Run(ctx, stages, st)
	out.Outcome = &Outcome{State: st, Err: runErr}
	if out.Results, err = ResultsDir(client, st); err != nil {
		return nil, err
	}
	if runErr != nil && !opts.ContinueOnFailure {
		return out, runErr
	}
	return out, nil
}

// prepare detects the build kind and spreads shared options, as Check does.
func (o *Options) prepare(ctx context.Context, src *dagger.Directory) error {
	if o.Test.Dir == "" {
		o.Test.Dir = o.Build.Dir
	}
	if o.Kind == "" {
		kind, err := detect(ctx, src, o)
		if err != nil {
			return err
		}
		o.Kind = kind
	}
	o.spreadDocker()
	return nil
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
