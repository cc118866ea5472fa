package build

import (
	"testing"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

func newState(t *testing.T) *pipeline.State {
	client, _ := daggertest.New(t, existsAnswer(), platformAnswer(false))
	return pipeline.NewState(client, client.Directory(), images.MustDefault(), testGit)
}
