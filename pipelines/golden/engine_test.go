package golden

import (
	"dagger.io/dagger"
	"github.com/paved-ci/paved/pipelines/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/enginetest"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/sign"
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
	src := client.Host().Directory(root, dagger.HostDirectoryOpts{Gitignore: true})
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

// TestEngineShipEachExampleAndVerify ships every example app to the
// embedded registry with an ephemeral key, then verifies the result with
// the returned public key. It skips where no engine is reachable.
func TestEngineShipEachExampleAndVerify(t *testing.T) {
	client := enginetest.Client(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := images.FromEnv(images.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := client.Host().Directory(root, dagger.HostDirectoryOpts{Gitignore: true})
	for _, ex := range []struct{ dir, main string }{
		{"examples/hello-go", "./cmd/hello"},
		{"examples/node-api", ""},
		{"examples/python-api", ""},
		{"examples/custom-pipeline", "./cmd/quote"},
	} {
		t.Run(filepath.Base(ex.dir), func(t *testing.T) {
			opts := ShipOptions{Options: Options{Build: build.GoOptions{Dir: ex.dir, Main: ex.main}}}
			out, err := Ship(t.Context(), client, src, imgs, opts)
			if err != nil {
				t.Fatal(err)
			}
			img := out.State.Results.Image
			if img == nil || !img.Ephemeral || img.Signature == "" || out.Signature == nil {
				t.Fatalf("image %+v signature %+v\n%s", img, out.Signature, Summary(out.State.Results))
			}
			// verify from this process, through the registry's module endpoint
			ref := img.Ref
			if emb := out.Embedded; emb != nil && img.Ephemeral {
				if ref, err = emb.ForModule(img.Ref); err != nil {
					t.Fatal(err)
				}
			}
			v, err := sign.Verify(t.Context(), ref, sign.Policy{PublicKey: []byte(out.Signature.PublicKey)}, sign.Registry{})
			if err != nil {
				t.Fatal(err)
			}
			if !v.Passed {
				t.Errorf("verify refused %s: %+v", ref, v.Checks)
			}
		})
	}
}
