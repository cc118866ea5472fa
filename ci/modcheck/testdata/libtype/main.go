// A module that hands its own generated Directory to paved's library,
// which takes dagger.io/dagger types. modcheck must reject it.
package main

import (
	"context"

	"dagger/libtype/internal/dagger"

	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/images"
)

type Libtype struct{}

func (m *Libtype) Version(ctx context.Context, source *dagger.Directory) (string, error) {
	in, err := build.GitInfo(ctx, nil, source, images.MustDefault())
	return in.Version(), err
}
