package main

import (
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/golden"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

func TestStagesPutSmokeBetweenTestAndTheRest(t *testing.T) {
	stages, err := Stages(golden.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pipeline.Names(stages), ","); got != "build,lint,test,smoke,scan" {
		t.Errorf("stages %s", got)
	}
}

// TestQuerySmokeStartsTheImageAndCallsIt checks the queries the smoke stage
// sends: the built image as a service bound to a curl client. No engine.
func TestQuerySmokeStartsTheImageAndCallsIt(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		wantErr string
	}{{"ok\n", ""}, {"starting\n", `answered "starting"`}} {
		client, conn := daggertest.New(t, daggertest.On("stdout", tc.answer))
		st := pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{Commit: "0123456789"})
		st.Variants = []*dagger.Container{client.Container().From("example.com/app@sha256:" + strings.Repeat("a", 64))}
		err := Smoke{Port: 8080, Path: "/healthz"}.Run(t.Context(), st)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("answer %q: err %v", tc.answer, err)
		}
		conn.AssertQueried(t, `withServiceBinding(alias:"app"`, `withExposedPort(port:8080)`, `asService(useEntrypoint:true)`, `"curl","-fsS","--retry","5","--retry-connrefused","http://app:8080/healthz"`)
	}
}
