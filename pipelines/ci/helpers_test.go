package ci

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/results"
)

// sample copies testdata/results into a temp dir and lets the test edit
// the record before it is written back.
func sample(t testing.TB, edit func(r *results.Run)) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir("testdata/results")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/results", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		r, err := results.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		edit(r)
		if err := r.Write(dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t testing.TB, dir string) *Bundle {
	t.Helper()
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func env(m map[string]string) Getenv {
	return func(k string) string { return m[k] }
}

// parseFileCommands reads a GITHUB_OUTPUT/GITHUB_ENV file the way the
// Actions runner does: `name=value` lines, or `name<<DELIM` followed by
// value lines up to a line that is exactly DELIM. A heredoc without its
// closing delimiter is an error (the runner fails the step).
func parseFileCommands(data string) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		if hd >= 0 && (eq < 0 || hd < eq) {
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: invalid heredoc header %q", i+1, line)
			}
			var vals []string
			found := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					found = true
					break
				}
				vals = append(vals, lines[i])
			}
			if !found {
				return nil, fmt.Errorf("matching delimiter %q not found for %s", delim, name)
			}
			out[name] = strings.Join(vals, "\n")
			continue
		}
		if eq <= 0 {
			return nil, fmt.Errorf("line %d: invalid format %q", i+1, line)
		}
		out[line[:eq]] = line[eq+1:]
	}
	return out, nil
}

// parseGitLabDotenv reads a dotenv report the way GitLab does
// (Ci::ParseDotenvArtifactService: every line must match ^(.*?)=(.*)$,
// key and value are stripped, nothing else is unquoted), then expands the
// value like a non-raw CI variable in the runner: $$ is a literal $, and
// $NAME / ${NAME} are replaced from vars (unset: empty).
func parseGitLabDotenv(data string, vars map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.SplitAfter(data, "\n") {
		if line == "" {
			continue // the split's tail after the final newline
		}
		line = strings.TrimSuffix(line, "\n")
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, fmt.Errorf("line %d: Invalid Format", i+1)
		}
		k, v := strings.TrimSpace(line[:eq]), strings.TrimSpace(line[eq+1:])
		out[k] = runnerExpand(v, vars)
	}
	return out, nil
}

// runnerExpand is the runner's expansion (os.Expand with $$ → $).
func runnerExpand(v string, vars map[string]string) string {
	return os.Expand(v, func(k string) string {
		if k == "$" {
			return "$"
		}
		return vars[k]
	})
}
