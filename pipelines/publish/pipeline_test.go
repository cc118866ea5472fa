package publish

import (
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/tags"
)

// TestQueryBuildThenPublishStagesShareTheVariants runs the real build
// stage and then the publish stage on one pipeline.State: publish pushes
// exactly the containers build left in State.Variants, and records the
// image with its platforms in results.
func TestQueryBuildThenPublishStagesShareTheVariants(t *testing.T) {
	emb, _ := newRegistry(t)
	src := pushIndex(t, emb, "paved/hello", randomIndex(t))
	digest := src[strings.Index(src, "@")+1:]
	exists := func(l daggertest.Leaf) (any, bool) { return true, l.Name() == "exists" }
	client, conn := daggertest.New(t, exists, platformAnswer,
		daggertest.On("start", "svc1"),
		daggertest.On("endpoint", emb),
		daggertest.On("publish", "localhost:5000/paved/hello:1.4.2@"+digest))
	git := gitmeta.Info{
		Commit: "0123456789abcdef0123456789abcdef01234567", CommitTime: time.Unix(1767225600, 0).UTC(),
		ExactTags: []string{"v1.4.2"}, Tags: []string{"v1.4.2"}, RemoteURL: "https://github.com/acme/hello.git",
	}
	st := pipeline.NewState(client, client.Directory(), images.MustDefault(), git)
	stages := []pipeline.Stage{
		build.Stage{Opts: build.GoOptions{Platforms: []string{"linux/amd64", "linux/arm64"}}},
		Stage{Opts: ShipOptions{Tags: tags.Options{}, Retry: fast()}},
	}
	if err := pipeline.Run(t.Context(), stages, st); err != nil {
		t.Fatal(err)
	}
	if len(st.Variants) != 2 {
		t.Fatalf("build left %d variants", len(st.Variants))
	}
	pub := conn.AssertQueried(t, `publish(address:"localhost:5000/paved-staging/hello:1.4.2", platformVariants:[`)
	// the variants in the push are the build's: runtime base, binary, labels
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !strings.Contains(pub, `platform:\"`+p+`\"`) {
			t.Errorf("push lacks the %s variant", p)
		}
	}
	if !strings.Contains(pub, images.MustDefault().Ref(images.Runtime)) || !strings.Contains(pub, "org.opencontainers.image.revision") {
		t.Errorf("pushed variants are not the build's:\n%s", pub)
	}
	img := st.Results.Image
	if img == nil || !img.Ephemeral || !strings.HasPrefix(img.Ref, "localhost:5000/paved/hello@sha256:") {
		t.Fatalf("results image %+v", img)
	}
	if strings.Join(img.Platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v", img.Platforms)
	}
	for _, s := range st.Results.Stages {
		if s.Status != results.Passed {
			t.Errorf("stage %+v", s)
		}
	}
	if got := digestOf(t, emb, "paved/hello", "latest"); got != img.Digest {
		t.Errorf("latest at %q, want %s", got, img.Digest)
	}
}
