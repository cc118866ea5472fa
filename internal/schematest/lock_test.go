package schematest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type lockEntry struct{ path, sum, url string }

func readLock(t *testing.T) []lockEntry {
	t.Helper()
	f, err := os.Open("../../ci/schemas.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []lockEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 3 || len(p[1]) != 64 || !strings.HasPrefix(p[2], "https://raw.githubusercontent.com/") {
			t.Fatalf("ci/schemas.lock: bad line %q (want path<TAB>sha256<TAB>https://raw.githubusercontent.com/...)", line)
		}
		out = append(out, lockEntry{p[0], p[1], p[2]})
	}
	return out
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The lock names exactly the shared schemas, with their hashes, so a run
// that fetches them (a public checkout) validates against the same files.
func TestSchemasLockMatchesShared(t *testing.T) {
	Need(t)
	dir, _ := Dir()
	lock := readLock(t)
	inLock := map[string]bool{}
	for _, e := range lock {
		inLock[e.path] = true
		if got := fileSum(t, filepath.Join(dir, e.path)); got != e.sum {
			t.Errorf("ci/schemas.lock: %s has sha256 %s, the shared file %s", e.path, e.sum, got)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README.md" {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !inLock[filepath.ToSlash(rel)] {
			t.Errorf("shared schema %s is not in ci/schemas.lock", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ci/fetch-schemas lays the files out as Dir expects and refuses a file
// whose hash differs. curl is faked: it serves the shared copies (or, for
// one URL, altered bytes), as no outside network is reachable here.
func TestFetchSchemasChecksHashes(t *testing.T) {
	Need(t)
	shared, _ := Dir()
	lock := readLock(t)
	bin := t.TempDir()
	var cases strings.Builder
	for i, e := range lock {
		src := filepath.Join(shared, e.path)
		if i == 0 {
			src = filepath.Join(bin, "tampered")
			if err := os.WriteFile(src, []byte(`{"tampered":true}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cases.WriteString("  '" + e.url + "') cp '" + src + "' \"$out\" ;;\n")
	}
	fake := "#!/bin/sh\nout=''; url=''\nwhile [ $# -gt 0 ]; do case \"$1\" in -o) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done\n" +
		"case \"$url\" in\n" + cases.String() + "  *) exit 22 ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	cmd := exec.Command("bash", "../../ci/fetch-schemas", dest)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a file with the wrong hash was accepted:\n%s", out)
	}
	if !strings.Contains(string(out), lock[0].path+": sha256") {
		t.Errorf("the error does not name %s:\n%s", lock[0].path, out)
	}
	if _, err := os.Stat(filepath.Join(dest, "schemas", lock[0].path)); err == nil {
		t.Errorf("the tampered %s was kept", lock[0].path)
	}
	for _, e := range lock[1:] {
		if got := fileSum(t, filepath.Join(dest, "schemas", e.path)); got != e.sum {
			t.Errorf("%s fetched with sha256 %s", e.path, got)
		}
	}
	// What was fetched is found through PAVED_SHARED.
	t.Setenv("PAVED_SHARED", dest)
	if d, err := Dir(); err != nil || d != filepath.Join(dest, "schemas") {
		t.Errorf("Dir() with PAVED_SHARED=%s: %q, %v", dest, d, err)
	}
}
