package golden

import (
	"github.com/paved-ci/paved/pipelines/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/enginetest"
	"github.com/paved-ci/paved/pipelines/images"
)

// TestEngineCheckOnHelloGo runs `check` on examples/hello-go on a real
// engine: both platforms built, their platforms right, tests passed, the
// results directory complete. It skips where no engine is reachable.
func TestEngineCheckOnHelloGo(t *testing.T) {
	client := enginetest.Client(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := images.FromEnv(images.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := client.Host().Directory(root)
	out, err := Check(t.Context(), client, src, imgs, Options{Build: buildOpts()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.State.Variants) != 2 {
		t.Fatalf("%d variants", len(out.State.Variants))
	}
	for i, want := range []string{"linux/amd64", "linux/arm64"} {
		p, err := out.State.Variants[i].Platform(t.Context())
		if err != nil || string(p) != want {
			t.Errorf("variant %d platform %q (%v), want %s", i, p, err, want)
		}
	}
	entries, err := out.Results.Entries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(entries, ","); !strings.Contains(got, "results.json") || !strings.Contains(got, "junit.xml") {
		t.Errorf("results directory: %s", got)
	}
	if !out.State.Results.Passed() {
		t.Errorf("check failed:\n%s", Summary(out.State.Results))
	}
}

func buildOpts() (o build.GoOptions) {
	o.Dir = "examples/hello-go"
	o.Main = "./cmd/hello"
	return o
}
