// Package pipeline is paved's stage model: a stage is a small value with a
// name, a skip rule and a run step, and a pipeline is one ordered slice of
// stages (the golden path's slice is in package golden). Run executes the
// slice in order and records every outcome in a results.Run.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"dagger.io/dagger"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/version"
)

// Stage is one step of a pipeline.
type Stage interface {
	// String is the stage's name as users see it ("build", "scan").
	String() string
	// Skip reports whether the stage should not run, and why.
	Skip(s *State) (skip bool, reason string)
	// Run does the work, reading inputs from and writing outputs to s.
	Run(ctx context.Context, s *State) error
}

// Starter is implemented by a stage whose work needs the run's inputs
// alone, not an earlier stage's outputs: the tests need the source, not the
// built image. Run starts every such stage before the first stage runs, so
// the engine works on it alongside the stages before it, and runs the
// returned stage in the slice's order: it collects the work and records it
// into the state like any other. The order of the record and of the first
// failure stays the slice's.
type Starter interface {
	// Start begins the stage's work and returns the stage to run in its
	// place. It must not change s; it may read it.
	Start(ctx context.Context, s *State) Stage
}

// Mandated is implemented by stages that platform policy requires (scan,
// sign): skipping one is recorded as such and may be forbidden.
type Mandated interface {
	Mandated() bool
}

// State is what stages share: the inputs of the run and the outputs each
// stage leaves for the next.
type State struct {
	Client *dagger.Client
	Source *dagger.Directory
	Images *images.Set
	Git    gitmeta.Info

	// Skip holds stage names the user skipped explicitly.
	Skip map[string]bool
	// ForbidSkip holds stage names policy does not let a user skip.
	ForbidSkip map[string]bool

	// Variants are the built image, one container per platform.
	Variants []*dagger.Container
	// Reports are files a stage produced, by kind ("junit", "coverage",
	// "sarif", ...); the results directory gets each one.
	Reports map[string]*dagger.File

	Results *results.Run

	// now is replaced in tests.
	now func() time.Time
}

// NewState starts a state with an empty results record.
func NewState(client *dagger.Client, source *dagger.Directory, imgs *images.Set, git gitmeta.Info) *State {
	s := &State{Client: client, Source: source, Images: imgs, Reports: map[string]*dagger.File{}, now: time.Now}
	s.Results = results.New(s.now())
	s.Results.PavedVersion = version.Get()
	s.Results.Modules = map[string]string{"paved": s.Results.PavedVersion}
	s.SetGit(git)
	return s
}

// SetGit records the git metadata: the state's and the results'. Callers
// that start stages before git is read (see Start) set it afterwards.
func (s *State) SetGit(git gitmeta.Info) {
	s.Git = git
	s.Results.Commit = git.Commit
	s.Results.Version = git.Version()
	s.Results.Repo = git.RemoteURL
}

// AddReport records a report file under kind.
func (s *State) AddReport(kind string, f *dagger.File) {
	if s.Reports == nil {
		s.Reports = map[string]*dagger.File{}
	}
	s.Reports[kind] = f
}

// ErrSkipForbidden is returned when a user skips a stage policy requires.
var ErrSkipForbidden = errors.New("skipping this stage is forbidden by platform policy")

// Run executes stages in order: Start, then Finish.
func Run(ctx context.Context, stages []Stage, s *State) error {
	return Start(ctx, stages, s).Finish()
}

// Started is a run whose Starters are at work (see Starter).
type Started struct {
	ctx     context.Context
	cancel  context.CancelFunc
	stages  []Stage
	state   *State
	started []*startedStage
}

// Start starts every Starter that will run and returns the run, for
// Finish. Between the two a caller may do other engine work meanwhile, such
// as reading git (State.SetGit): a Starter's Start must not need s.Git. A
// caller that gives up before Finish calls Stop.
func Start(ctx context.Context, stages []Stage, s *State) *Started {
	if s.now == nil {
		s.now = time.Now
	}
	if s.Results == nil {
		s.Results = results.New(s.now())
	}
	// a started stage still at work when an earlier one fails is stopped
	ctx, cancel := context.WithCancel(ctx)
	return &Started{ctx: ctx, cancel: cancel, stages: stages, state: s, started: start(ctx, stages, s)}
}

// Stop cancels the started stages' work.
func (r *Started) Stop() { r.cancel() }

// Finish runs the stages in order. The first failure stops the run; the
// remaining stages are recorded as skipped with the reason, so a summary
// never leaves a stage out. A started stage's recorded time runs from its
// start to the end of its work, so stage times may overlap.
func (r *Started) Finish() error {
	defer r.cancel()
	ctx, stages, s, started := r.ctx, r.stages, r.state, r.started
	var failed error
	for i, st := range stages {
		name := st.String()
		rec := results.Stage{Name: name, Mandated: isMandated(st)}
		early := started[i]
		if failed != nil {
			rec.Status, rec.Reason = results.Skipped, "not run: an earlier stage failed"
			if early != nil {
				rec.Reason = "started early, result not used: an earlier stage failed"
				early.span.End()
			}
			s.Results.Add(rec)
			continue
		}
		if s.Skip[name] {
			if s.ForbidSkip[name] {
				failed = fmt.Errorf("stage %s: %w (remove it from the skipped stages)", name, ErrSkipForbidden)
				rec.Status, rec.Reason = results.Failed, failed.Error()
				s.Results.Add(rec)
				continue
			}
			rec.Status, rec.Reason = results.Skipped, "skipped by request"
			s.Results.Add(rec)
			continue
		}
		if early == nil {
			if skip, why := st.Skip(s); skip {
				rec.Status, rec.Reason = results.Skipped, why
				s.Results.Add(rec)
				continue
			}
		}
		begin, run, sctx, span := s.now(), st, ctx, trace.Span(nil)
		if early != nil {
			begin, run, sctx, span = early.begin, early.stage, early.ctx, early.span
		} else {
			// one named span per stage: Dagger's progress output shows it
			sctx, span = dagger.Tracer().Start(ctx, "paved "+name)
		}
		err := run.Run(sctx, s)
		if err != nil {
			span.SetStatus(codes.Error, firstLine(err.Error()))
		}
		span.End()
		end := s.now()
		// zero when the wait was cancelled before the work ended
		if e, ok := run.(interface{ ended() time.Time }); ok && !e.ended().IsZero() {
			end = e.ended()
		}
		rec.Duration = end.Sub(begin)
		if err != nil {
			failed = fmt.Errorf("stage %s: %w", name, WithExecOutput(err))
			rec.Status, rec.Reason = results.Failed, firstLine(err.Error())
		} else {
			rec.Status = results.Passed
		}
		s.Results.Add(rec)
	}
	return failed
}

// startedStage is a Starter's stage after Start: its span is open from the
// start, so the engine's work shows under the stage's name.
type startedStage struct {
	stage Stage
	begin time.Time
	ctx   context.Context
	span  trace.Span
}

// start starts each Starter that will run: not skipped by the user nor by
// its own Skip. The result has one entry per stage, nil for the others.
func start(ctx context.Context, stages []Stage, s *State) []*startedStage {
	out := make([]*startedStage, len(stages))
	for i, st := range stages {
		sr, ok := st.(Starter)
		if !ok || s.Skip[st.String()] {
			continue
		}
		if skip, _ := st.Skip(s); skip {
			continue
		}
		sctx, span := dagger.Tracer().Start(ctx, "paved "+st.String())
		out[i] = &startedStage{begin: s.now(), ctx: sctx, span: span}
		out[i].stage = sr.Start(sctx, s)
	}
	return out
}

// execTail is how many lines of a failed command's output an error keeps.
const execTail = 20

// WithExecOutput adds to an error from a failed container exec the command,
// its exit code and the last lines of its output (stderr, else stdout), as
// the engine reported them: "exit code: 1" alone does not say that `go mod
// download` could not find a module. Other errors are returned as they are.
func WithExecOutput(err error) error {
	var ee *dagger.ExecError
	if !errors.As(err, &ee) {
		return err
	}
	out := strings.TrimRight(ee.Stderr, "\n")
	if strings.TrimSpace(out) == "" {
		out = strings.TrimRight(ee.Stdout, "\n")
	}
	msg := fmt.Sprintf("%v\ncommand %q exited %d", err, strings.Join(ee.Cmd, " "), ee.ExitCode)
	if strings.TrimSpace(out) == "" {
		return &execOutputError{err: err, msg: msg + " with no output"}
	}
	lines := strings.Split(out, "\n")
	if len(lines) > execTail {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-execTail)}, lines[len(lines)-execTail:]...)
	}
	return &execOutputError{err: err, msg: msg + "; the end of its output:\n  " + strings.Join(lines, "\n  ")}
}

type execOutputError struct {
	err error
	msg string
}

func (e *execOutputError) Error() string { return e.msg }
func (e *execOutputError) Unwrap() error { return e.err }

// Names lists the stage names in order.
func Names(stages []Stage) []string {
	out := make([]string, len(stages))
	for i, st := range stages {
		out[i] = st.String()
	}
	return out
}

func isMandated(st Stage) bool {
	m, ok := st.(Mandated)
	return ok && m.Mandated()
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// InsertAfter returns stages with extra placed right after the stage named
// after — how a team adds its own stage to the golden path without copying
// the list.
func InsertAfter(stages []Stage, after string, extra ...Stage) ([]Stage, error) {
	for i, st := range stages {
		if st.String() == after {
			out := make([]Stage, 0, len(stages)+len(extra))
			out = append(out, stages[:i+1]...)
			out = append(out, extra...)
			return append(out, stages[i+1:]...), nil
		}
	}
	return nil, fmt.Errorf("no stage named %q to insert after (stages: %v)", after, Names(stages))
}

// Early is what a Starter's Start returns: work runs now, in the
// background; the returned stage's Run waits for it and hands its result to
// finish, which records it into the state (reports, the stage's verdict).
// The stage's recorded time ends when work did, not when its turn came.
func Early[T any](ctx context.Context, s *State, st Stage, work func(context.Context) (T, error), finish func(*State, T) error) Stage {
	e := &early[T]{Stage: st, done: make(chan struct{}), finish: finish}
	now := s.now
	if now == nil {
		now = time.Now
	}
	go func() {
		defer close(e.done)
		e.v, e.err = work(ctx)
		e.end = now()
	}()
	return e
}

type early[T any] struct {
	Stage
	done   chan struct{}
	v      T
	err    error
	end    time.Time
	finish func(*State, T) error
}

func (e *early[T]) Run(ctx context.Context, s *State) error {
	select {
	case <-e.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e.err != nil {
		return e.err
	}
	return e.finish(s, e.v)
}

// ended is when the work ended; Finish records the stage's time up to it.
func (e *early[T]) ended() time.Time { return e.end }
