package test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

// A started test stage whose After is armed sends no query for the tests
// until the signal: the build is compiling the packages they share.
func TestQueryStartedTestsWaitForAnArmedSignal(t *testing.T) {
	r := realRun(t)
	var signalled, early atomic.Bool
	client, conn := daggertest.New(t,
		func(l daggertest.Leaf) (any, bool) {
			if !signalled.Load() {
				early.Store(true)
			}
			return nil, false
		},
		coverageAnswer(r),
		daggertest.On("exists", true),
		daggertest.OnPath(string(r.json), "file", "contents"),
	)
	st := pipeline.NewState(client, client.Directory(), nil, gitmeta.Info{})
	sig := pipeline.NewSignal()
	sig.Arm()
	run := Stage{After: sig}.Start(t.Context(), st)
	// time for a stage that does not wait to send its queries
	time.Sleep(100 * time.Millisecond)
	signalled.Store(true)
	sig.Done()
	if err := run.Run(t.Context(), st); err == nil || !strings.Contains(err.Error(), "TestTwo") {
		t.Errorf("the tests' verdict after the wait: %v", err)
	}
	if early.Load() {
		t.Error("the tests queried the engine before the signal")
	}
	conn.AssertQueried(t, `"go","test","-json"`)
}

// An unarmed signal (the build was skipped or did not start) is not
// waited for: the stage must not hang.
func TestQueryStartedTestsDoNotWaitForAnUnarmedSignal(t *testing.T) {
	r := realRun(t)
	client, _ := daggertest.New(t, coverageAnswer(r), daggertest.On("exists", true), daggertest.OnPath(string(r.json), "file", "contents"))
	st := pipeline.NewState(client, client.Directory(), nil, gitmeta.Info{})
	done := make(chan error, 1)
	go func() { done <- Stage{After: pipeline.NewSignal()}.Start(t.Context(), st).Run(t.Context(), st) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "TestTwo") {
			t.Errorf("verdict: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tests waited for a signal nobody armed")
	}
}

func coverageAnswer(r goTestRun) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "coverage.out") {
			return string(r.profile), true
		}
		return nil, false
	}
}
