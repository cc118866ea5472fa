package main

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Smoke is this team's own stage: it starts the built image (the native
// platform's variant) as a service and checks its health endpoint before
// anything is scanned or published.
type Smoke struct {
	Port int
	Path string
}

func (Smoke) String() string { return "smoke" }

// Skip skips when nothing was built.
func (Smoke) Skip(st *pipeline.State) (bool, string) {
	if len(st.Variants) == 0 {
		return true, "no image to start"
	}
	return false, ""
}

// Run starts the first variant and calls it from a client container.
func (s Smoke) Run(ctx context.Context, st *pipeline.State) error {
	app := st.Variants[0].
		WithExposedPort(s.Port).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
	url := fmt.Sprintf("http://app:%d%s", s.Port, s.Path)
	out, err := st.Client.Container().
		From(st.Images.Ref(images.Go)). // has curl; already pulled for the build
		WithServiceBinding("app", app).
		WithExec([]string{"curl", "-fsS", "--retry", "5", "--retry-connrefused", url}).
		Stdout(ctx)
	if err != nil {
		return fmt.Errorf("the image did not answer %s: %w", url, err)
	}
	if strings.TrimSpace(out) != "ok" {
		return fmt.Errorf("%s answered %q, want ok", url, strings.TrimSpace(out))
	}
	return nil
}
