package build

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/internal/enginetest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
)

// TestEngineTwoBuildsOfOneCommitGiveOneImage builds hello-go twice on a
// real engine — the second time with an extra toolchain variable, so the
// compile really runs again — and compares the two multi-platform images:
// every layer must be byte-identical, and every image config identical but
// for its "created" times. Those the engine stamps at export (Dagger
// v0.21.9 applies no source-date-epoch to Container exports), so the index
// digests differ; the README says so. It also checks the user, labels and
// platforms.
func TestEngineTwoBuildsOfOneCommitGiveOneImage(t *testing.T) {
	client := enginetest.Client(t)
	root, _ := filepath.Abs("../..")
	git, err := gitmeta.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := images.FromEnv(images.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := client.Host().Directory(root, dagger.HostDirectoryOpts{Exclude: []string{".git"}, Gitignore: true})
	build := func(bust string) (*imageParts, []*dagger.Container) {
		opts := GoOptions{Dir: "examples/hello-go", Main: "./cmd/hello", Images: imgs, Env: map[string]string{"PAVED_TEST_REBUILD": bust}}
		p, err := NewPlan(opts, git)
		if err != nil {
			t.Fatal(err)
		}
		variants, err := Go(t.Context(), client, src, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		tarball := filepath.Join(t.TempDir(), "image.tar")
		if _, err := client.Container().AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants}).Export(t.Context(), tarball); err != nil {
			t.Fatal(err)
		}
		return readImage(t, tarball), variants
	}
	a, variants := build("1")
	b, _ := build("2")
	if len(a.layers) == 0 || strings.Join(a.layers, ",") != strings.Join(b.layers, ",") {
		t.Errorf("two builds of commit %s have different layers:\n%v\n%v", git.ShortCommit(), a.layers, b.layers)
	}
	if strings.Join(a.configs, "\n") != strings.Join(b.configs, "\n") {
		t.Errorf("two builds of commit %s have configs that differ beyond their created times:\n%s\n%s", git.ShortCommit(), a.configs, b.configs)
	}
	t.Logf("index digests %s and %s (differ only by the engine's created times)", a.index, b.index)
	user, err := variants[0].User(t.Context())
	if err != nil || user != NonRootUser {
		t.Errorf("user %q (%v), want %s", user, err, NonRootUser)
	}
	rev, err := variants[1].Label(t.Context(), "org.opencontainers.image.revision")
	if err != nil || rev != git.Commit {
		t.Errorf("revision label %q (%v), want %s", rev, err, git.Commit)
	}
}

// imageParts is what two builds are compared on.
type imageParts struct {
	index   string   // the index digest
	layers  []string // every platform's layer digests, in order
	configs []string // every platform's config, without "created" times
}

// readImage reads an OCI layout tarball: the index, each manifest's layers
// and its config with the created times removed.
func readImage(t *testing.T, path string) *imageParts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, "./")] = b
	}
	blob := func(d string) []byte {
		b, ok := files["blobs/"+strings.Replace(d, ":", "/", 1)]
		if !ok {
			t.Fatalf("blob %s is not in the image tarball", d)
		}
		return b
	}
	type desc struct {
		MediaType string
		Digest    string
	}
	var top struct{ Manifests []desc }
	if err := json.Unmarshal(files["index.json"], &top); err != nil || len(top.Manifests) == 0 {
		t.Fatalf("index.json: %v", err)
	}
	out := &imageParts{index: top.Manifests[0].Digest}
	var idx struct{ Manifests []desc }
	if err := json.Unmarshal(blob(out.index), &idx); err != nil || len(idx.Manifests) == 0 {
		t.Fatalf("image index %s: %v", out.index, err)
	}
	for _, m := range idx.Manifests {
		var man struct {
			Config desc
			Layers []desc
		}
		if err := json.Unmarshal(blob(m.Digest), &man); err != nil {
			t.Fatalf("manifest %s: %v", m.Digest, err)
		}
		for _, l := range man.Layers {
			out.layers = append(out.layers, l.Digest)
		}
		var cfg map[string]any
		if err := json.Unmarshal(blob(man.Config.Digest), &cfg); err != nil {
			t.Fatalf("config %s: %v", man.Config.Digest, err)
		}
		delete(cfg, "created")
		if hist, ok := cfg["history"].([]any); ok {
			for _, h := range hist {
				if hm, ok := h.(map[string]any); ok {
					delete(hm, "created")
				}
			}
		}
		b, _ := json.Marshal(cfg)
		out.configs = append(out.configs, string(b))
	}
	return out
}
