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

// TestEngineTwoBuildsOfOneCommitGiveOneDigest builds hello-go twice on a
// real engine — the second time with an extra toolchain variable, so the
// compile really runs again — and compares the OCI index digests of the
// two multi-platform images. It also checks the user, labels and platforms.
func TestEngineTwoBuildsOfOneCommitGiveOneDigest(t *testing.T) {
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
	digest := func(bust string) (string, []*dagger.Container) {
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
		return indexDigest(t, tarball), variants
	}
	d1, variants := digest("1")
	d2, _ := digest("2")
	if d1 != d2 {
		t.Errorf("two builds of commit %s differ: %s vs %s", git.ShortCommit(), d1, d2)
	}
	user, err := variants[0].User(t.Context())
	if err != nil || user != NonRootUser {
		t.Errorf("user %q (%v), want %s", user, err, NonRootUser)
	}
	rev, err := variants[1].Label(t.Context(), "org.opencontainers.image.revision")
	if err != nil || rev != git.Commit {
		t.Errorf("revision label %q (%v), want %s", rev, err, git.Commit)
	}
}

// indexDigest reads the first manifest digest from an OCI layout tarball.
func indexDigest(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatal("no index.json in the image tarball")
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") != "index.json" {
			continue
		}
		var idx struct {
			Manifests []struct{ Digest string }
		}
		if err := json.NewDecoder(tr).Decode(&idx); err != nil || len(idx.Manifests) == 0 {
			t.Fatalf("index.json: %v", err)
		}
		return idx.Manifests[0].Digest
	}
}
