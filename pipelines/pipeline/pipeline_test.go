package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/paved-ci/paved/pipelines/results"
)

type fake struct {
	name     string
	skip     string
	err      error
	mandated bool
	ran      *[]string
}

func (f fake) String() string { return f.name }
func (f fake) Skip(*State) (bool, string) {
	return f.skip != "", f.skip
}
func (f fake) Run(context.Context, *State) error {
	*f.ran = append(*f.ran, f.name)
	return f.err
}
func (f fake) Mandated() bool { return f.mandated }

// clock ticks a second a reading; started stages read it from their own
// goroutine, hence the lock.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Unix(0, 0)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestRunOrdersRecordsAndStopsAtFirstFailure(t *testing.T) {
	var ran []string
	stages := []Stage{
		fake{name: "build", ran: &ran},
		fake{name: "lint", skip: "lint not enabled", ran: &ran},
		fake{name: "test", err: errors.New("2 failing:\n  TestA"), ran: &ran},
		fake{name: "scan", mandated: true, ran: &ran},
	}
	s := &State{now: clock()}
	err := Run(t.Context(), stages, s)
	if err == nil || !strings.HasPrefix(err.Error(), "stage test: 2 failing") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(ran, ",") != "build,test" {
		t.Errorf("ran %v", ran)
	}
	got := s.Results.Stages
	if len(got) != 4 {
		t.Fatalf("%d stage records, want 4: %+v", len(got), got)
	}
	want := []struct {
		name   string
		status results.Status
		reason string
	}{
		{"build", results.Passed, ""},
		{"lint", results.Skipped, "lint not enabled"},
		{"test", results.Failed, "2 failing:"},
		{"scan", results.Skipped, "not run: an earlier stage failed"},
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Status != w.status || got[i].Reason != w.reason {
			t.Errorf("record %d = %+v, want %+v", i, got[i], w)
		}
	}
	if got[0].Duration != time.Second || !got[3].Mandated || s.Results.Passed() {
		t.Errorf("duration %v mandated %v passed %v", got[0].Duration, got[3].Mandated, s.Results.Passed())
	}
}

func TestExplicitSkipAndForbiddenSkip(t *testing.T) {
	var ran []string
	stages := []Stage{fake{name: "build", ran: &ran}, fake{name: "scan", mandated: true, ran: &ran}, fake{name: "sign", mandated: true, ran: &ran}}
	s := &State{now: clock(), Skip: map[string]bool{"scan": true}}
	if err := Run(t.Context(), stages, s); err != nil {
		t.Fatal(err)
	}
	if r := s.Results.Stages[1]; r.Status != results.Skipped || r.Reason != "skipped by request" || !r.Mandated {
		t.Errorf("scan record %+v", r)
	}
	ran = nil
	s = &State{now: clock(), Skip: map[string]bool{"scan": true}, ForbidSkip: map[string]bool{"scan": true}}
	err := Run(t.Context(), stages, s)
	if !errors.Is(err, ErrSkipForbidden) || !strings.Contains(err.Error(), "stage scan") {
		t.Errorf("err = %v", err)
	}
	if strings.Join(ran, ",") != "build" {
		t.Errorf("ran %v after a forbidden skip", ran)
	}
	if Names(stages)[2] != "sign" {
		t.Error("Names")
	}
}

func TestInsertAfter(t *testing.T) {
	var ran []string
	base := []Stage{fake{name: "build", ran: &ran}, fake{name: "test", ran: &ran}, fake{name: "scan", ran: &ran}}
	got, err := InsertAfter(base, "test", fake{name: "smoke", ran: &ran})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Join(Names(got), ","); n != "build,test,smoke,scan" {
		t.Errorf("order %s", n)
	}
	if strings.Join(Names(base), ",") != "build,test,scan" {
		t.Error("InsertAfter changed its input")
	}
	if _, err := InsertAfter(base, "lint", fake{name: "x", ran: &ran}); err == nil || !strings.Contains(err.Error(), `no stage named "lint"`) {
		t.Errorf("err %v", err)
	}
}

func TestEveryRunStageIsANamedSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	var ran []string
	stages := []Stage{fake{name: "build", ran: &ran}, fake{name: "lint", skip: "off", ran: &ran}, fake{name: "test", err: errors.New("1 failing"), ran: &ran}}
	Run(t.Context(), stages, &State{now: clock()})
	var got []string
	for _, s := range rec.Ended() {
		got = append(got, s.Name()+":"+s.Status().Code.String())
	}
	if strings.Join(got, " ") != "paved build:Unset paved test:Error" {
		t.Errorf("spans %v", got)
	}
}

// starter is a Starter: its work closes began, then waits for release.
type starter struct {
	fake
	began   chan struct{}
	release chan struct{}
	stopped chan error // the work's context error when it ends
}

func (e starter) Start(ctx context.Context, s *State) Stage {
	return Early(ctx, s, e, func(ctx context.Context) (string, error) {
		close(e.began)
		select {
		case <-e.release:
			return "report of " + e.name, nil
		case <-ctx.Done():
			e.stopped <- ctx.Err()
			return "", ctx.Err()
		}
	}, func(s *State, v string) error {
		s.AddReport(e.name, nil)
		*e.ran = append(*e.ran, e.name+"="+v)
		return e.err
	})
}

func newStarter(name string, ran *[]string) starter {
	return starter{fake: fake{name: name, ran: ran}, began: make(chan struct{}), release: make(chan struct{}), stopped: make(chan error, 1)}
}

// waitFor is a stage whose Run needs ch closed: it fails instead of
// hanging when nothing closes it.
type waitFor struct {
	fake
	ch    chan struct{}
	after func()
}

func (w waitFor) Run(ctx context.Context, s *State) error {
	select {
	case <-w.ch:
	case <-time.After(10 * time.Second):
		return errors.New(w.name + ": the started stage never began")
	}
	if w.after != nil {
		w.after()
	}
	return w.fake.Run(ctx, s)
}

func TestStarterWorksAlongsideEarlierStagesAndRecordsInOrder(t *testing.T) {
	var ran []string
	test := newStarter("test", &ran)
	// build can only finish once test's work has begun, and lets it end
	build := waitFor{fake: fake{name: "build", ran: &ran}, ch: test.began, after: func() { close(test.release) }}
	s := &State{now: clock()}
	if err := Run(t.Context(), []Stage{build, test, fake{name: "scan", ran: &ran}}, s); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ran, " "); got != "build test=report of test scan" {
		t.Errorf("ran %q", got)
	}
	var names []string
	for _, st := range s.Results.Stages {
		names = append(names, st.Name+":"+string(st.Status))
	}
	if got := strings.Join(names, " "); got != "build:passed test:passed scan:passed" {
		t.Errorf("record %q", got)
	}
	if _, ok := s.Reports["test"]; !ok {
		t.Error("the started stage's finish did not record its report")
	}
}

func TestStarterFailureAndEarlierFailure(t *testing.T) {
	var ran []string
	// the started stage's own failure fails the run at its turn
	test := newStarter("test", &ran)
	test.err = errors.New("2 failing tests")
	close(test.release)
	s := &State{now: clock()}
	err := Run(t.Context(), []Stage{fake{name: "build", ran: &ran}, test, fake{name: "scan", ran: &ran}}, s)
	if err == nil || !strings.Contains(err.Error(), "stage test: 2 failing tests") {
		t.Fatalf("err %v", err)
	}
	if s.Results.Stages[2].Status != results.Skipped {
		t.Errorf("scan after a failed started stage: %+v", s.Results.Stages[2])
	}

	// an earlier failure: the started work is stopped, its record says so
	ran = nil
	test = newStarter("test", &ran)
	s = &State{now: clock()}
	err = Run(t.Context(), []Stage{waitFor{fake: fake{name: "build", err: errors.New("compile error"), ran: &ran}, ch: test.began}, test}, s)
	if err == nil || !strings.Contains(err.Error(), "compile error") {
		t.Fatalf("err %v", err)
	}
	select {
	case cerr := <-test.stopped:
		if !errors.Is(cerr, context.Canceled) {
			t.Errorf("work ended with %v", cerr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the started work was not stopped when the run ended")
	}
	rec := s.Results.Stages[1]
	if rec.Status != results.Skipped || !strings.Contains(rec.Reason, "result not used") {
		t.Errorf("record %+v", rec)
	}
	if strings.Join(ran, " ") != "build" {
		t.Errorf("ran %v", ran)
	}
}

func TestSkippedStarterIsNotStarted(t *testing.T) {
	var ran []string
	byUser, byRule := newStarter("test", &ran), newStarter("lint", &ran)
	byRule.skip = "lint not enabled"
	s := &State{now: clock(), Skip: map[string]bool{"test": true}}
	if err := Run(t.Context(), []Stage{fake{name: "build", ran: &ran}, byRule, byUser}, s); err != nil {
		t.Fatal(err)
	}
	for _, e := range []starter{byUser, byRule} {
		select {
		case <-e.began:
			t.Errorf("%s was started though skipped", e.name)
		default:
		}
	}
	if got := s.Results.Stages[1].Reason + "|" + s.Results.Stages[2].Reason; got != "lint not enabled|skipped by request" {
		t.Errorf("reasons %q", got)
	}
}

func TestStartedStageTimeEndsWhenItsWorkEnded(t *testing.T) {
	// a clock the test sets; the work's end reads it once while build waits
	var mu sync.Mutex
	cur, released := int64(10), false
	read := make(chan struct{})
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if released {
			released = false
			close(read)
		}
		return time.Unix(cur, 0)
	}
	var ran []string
	test := newStarter("test", &ran)
	build := waitFor{fake: fake{name: "build", ran: &ran}, ch: test.began, after: func() {
		mu.Lock()
		cur, released = 12, true
		mu.Unlock()
		close(test.release)
		<-read // the work ended at 12
		mu.Lock()
		cur = 20 // build ends long after
		mu.Unlock()
	}}
	s := &State{now: now}
	if err := Run(t.Context(), []Stage{build, test}, s); err != nil {
		t.Fatal(err)
	}
	if d := s.Results.Stages[1].Duration; d != 2*time.Second {
		t.Errorf("test's time %v, want 2s: from its start (10) to its work's end (12), not to its turn (20)", d)
	}
}
