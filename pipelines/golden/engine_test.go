package golden

import (
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paved-ci/paved/internal/enginetest"
	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/scan"
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
	out, err := Check(t.Context(), client, src, imgs, Options{App: builder.Options{Dir: "examples/hello-go", Main: "./cmd/hello"}, Scan: scanStage()})
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

// scanStage scans with the DB mirror named by PAVED_TRIVY_DB_REPOSITORY.
func scanStage() scan.Stage {
	return scan.Stage{Opts: scan.Options{DBRepository: enginetest.DBRepository()}}
}

// TestEngineShipEachExampleAndVerify ships every example app (and the
// registry-free Dockerfile test app) to the embedded registry with an
// ephemeral key, verifies the result with the returned public key and all
// three attestations, then tampers with it: another key, a tag moved to an
// unsigned image, a tag moved away from a pinned digest must all be
// refused. It skips where no engine is reachable.
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
	for _, ex := range []struct {
		dir, main string
		registry  string   // the package registry its Dockerfile needs
		platforms []string // nil: both defaults
	}{
		{"examples/hello-go", "./cmd/hello", "", nil},
		{"examples/node-api", "", "npm", nil},
		{"examples/python-api", "", "PyPI", nil},
		{"examples/custom-pipeline", "./cmd/quote", "", nil},
		// its busybox base is single-platform on an offline mirror
		{"ci/testapps/shell-dockerfile", "", "", []string{"linux/amd64"}},
	} {
		t.Run(filepath.Base(ex.dir), func(t *testing.T) {
			if ex.registry != "" && enginetest.NoPackageRegistries() {
				t.Skipf("%s=1: this engine's containers reach no package registry, and %s's Dockerfile installs from %s", enginetest.NoPackageRegistriesEnv, ex.dir, ex.registry)
			}
			opts := ShipOptions{Options: Options{App: builder.Options{Dir: ex.dir, Main: ex.main, Platforms: ex.platforms}, Scan: scanStage()}}
			out, err := Ship(t.Context(), client, src, imgs, opts)
			if err != nil {
				t.Fatal(err)
			}
			img := out.State.Results.Image
			if img == nil || !img.Ephemeral || img.Signature == "" || out.Signature == nil || len(img.Tags) == 0 {
				t.Fatalf("image %+v signature %+v\n%s", img, out.Signature, Summary(out.State.Results))
			}
			// this process is on the engine's host: StartRegistry reached
			// the registry through a tunnel, and ForModule uses it
			ref, err := out.Embedded.ForModule(img.Ref)
			if err != nil {
				t.Fatal(err)
			}
			require := []string{"vuln", "slsaprovenance1"}
			if out.State.Reports[scan.KindSBOM] != nil {
				require = append(require, "cyclonedx")
			} else {
				// trivy found no packages (a busybox image): paved makes no
				// SBOM claiming there are none, so there is none to attest
				t.Logf("%s: no SBOM (trivy listed no packages); cyclonedx not required", ex.dir)
			}
			key := sign.Policy{PublicKey: []byte(out.Signature.PublicKey), Require: require}
			v, err := sign.Verify(t.Context(), ref, key, sign.Registry{})
			if err != nil {
				t.Fatal(err)
			}
			if !v.Passed {
				t.Fatalf("verify refused %s: %+v", ref, v.Checks)
			}
			refuses := func(what, image string, p sign.Policy) {
				t.Helper()
				v, err := sign.Verify(t.Context(), image, p, sign.Registry{})
				if err == nil && v.Passed {
					t.Errorf("verify passed %s (%s)", image, what)
				}
			}
			// another key
			other, err := sign.GenerateKeyPair(nil)
			if err != nil {
				t.Fatal(err)
			}
			refuses("signed by another key", ref, sign.Policy{PublicKey: other.Public})
			// a tag moved to an image nobody signed
			repo, _, _ := strings.Cut(ref, "@")
			tagRef := repo + ":" + img.Tags[0][strings.LastIndex(img.Tags[0], ":")+1:]
			tampered, err := random.Image(256, 1)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(tagRef, name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, tampered); err != nil {
				t.Fatal(err)
			}
			refuses("tag moved to an unsigned image", tagRef, sign.Policy{PublicKey: key.PublicKey})
			refuses("tag moved away from the pinned digest", tagRef, sign.Policy{PublicKey: key.PublicKey, Digest: img.Digest})
		})
	}
}
