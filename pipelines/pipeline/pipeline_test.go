package pipeline

import (
	"context"
	"errors"
	"strings"
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

func clock() func() time.Time {
	t := time.Unix(0, 0)
	return func() time.Time { t = t.Add(time.Second); return t }
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
