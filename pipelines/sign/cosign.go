package sign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// CosignVersion is the cosign CLI paved drives; the images table pins its
// image, and the tests run the same version.
const CosignVersion = "v2.6.5"

// Dir stands for the folder a Runner puts a Call's files in; args and env
// values name files as Dir + "/" + name.
const Dir = "${PAVED_COSIGN_DIR}"

// Call is one cosign invocation. The cryptography, the transparency log
// and the registry layout are cosign's: paved's module binaries then do not
// link cosign's libraries, which made up two thirds of their cold build.
type Call struct {
	// Args follow "cosign"; they never hold a secret.
	Args []string
	// Env are plain variables (paths, URLs).
	Env map[string]string
	// Files are plain inputs written under Dir: predicates, public keys, CAs.
	Files map[string][]byte
	// SecretFiles are written under Dir as secrets: a key, an OIDC token,
	// a Docker config.
	SecretFiles map[string][]byte
}

// after is a copy of c with args before its own: a subcommand and its
// flags, then the shared flags, env, files and secrets c holds.
func (c Call) after(args ...string) Call {
	return Call{
		Args:        append(append([]string{}, args...), c.Args...),
		Env:         maps.Clone(c.Env),
		Files:       maps.Clone(c.Files),
		SecretFiles: maps.Clone(c.SecretFiles),
	}
}

// Runner runs cosign calls in order, stopping at the first failure, and
// returns the last call's standard output. A failure is a *CallError.
type Runner interface {
	Run(ctx context.Context, calls []Call) ([]byte, error)
}

// CallError is a cosign call that failed: which one (its index among the
// calls, -1 when unknown, and its args) and what it printed on standard
// error.
type CallError struct {
	Index    int
	Args     []string
	ExitCode int
	Stderr   string
	Err      error // the runner's own failure, when cosign did not run
}

func (e *CallError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cosign %s: %v", first(e.Args), e.Err)
	}
	return fmt.Sprintf("cosign %s exited %d: %s", first(e.Args), e.ExitCode, oneLine(errors.New(e.Stderr)))
}

func (e *CallError) Unwrap() error { return e.Err }

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// LocalRunner runs the cosign binary on this machine (host tools, tests).
// Bin defaults to cosign on PATH, then $GOPATH/bin/cosign.
type LocalRunner struct {
	Bin string
	// Env is added to cosign's environment (e.g. HTTPS_PROXY).
	Env []string
}

func (l LocalRunner) bin() (string, error) {
	if l.Bin != "" {
		return l.Bin, nil
	}
	if p, err := exec.LookPath("cosign"); err == nil {
		return p, nil
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "cosign")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the cosign CLI is not installed: go install github.com/sigstore/cosign/v2/cmd/cosign@%s", CosignVersion)
}

// Run writes each call's files into a private temporary folder (removed
// afterwards) and runs cosign with a HOME of its own.
func (l LocalRunner) Run(ctx context.Context, calls []Call) ([]byte, error) {
	bin, err := l.bin()
	if err != nil {
		return nil, err
	}
	var out []byte
	for i, c := range calls {
		if out, err = l.run(ctx, bin, c); err != nil {
			if ce, ok := err.(*CallError); ok {
				ce.Index = i
			}
			return nil, err
		}
	}
	return out, nil
}

func (l LocalRunner) run(ctx context.Context, bin string, c Call) ([]byte, error) {
	dir, err := os.MkdirTemp("", "paved-cosign-")
	if err != nil {
		return nil, &CallError{Args: c.Args, Err: err}
	}
	defer os.RemoveAll(dir)
	for _, files := range []map[string][]byte{c.Files, c.SecretFiles} {
		for name, b := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return nil, &CallError{Args: c.Args, Err: err}
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				return nil, &CallError{Args: c.Args, Err: err}
			}
		}
	}
	home := filepath.Join(dir, ".home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, &CallError{Args: c.Args, Err: err}
	}
	expand := func(s string) string { return strings.ReplaceAll(s, Dir, dir) }
	cmd := exec.CommandContext(ctx, bin, mapStrings(c.Args, expand)...)
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}, l.Env...)
	for _, k := range sortedKeys(c.Env) {
		cmd.Env = append(cmd.Env, k+"="+expand(c.Env[k]))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil {
			return nil, &CallError{Args: c.Args, ExitCode: ee.ExitCode(), Stderr: strings.ReplaceAll(stderr.String(), dir, Dir)}
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &CallError{Args: c.Args, Err: err}
	}
	return stdout.Bytes(), nil
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// runnerOr is r, or the local cosign when nil.
func runnerOr(r Runner) Runner {
	if r == nil {
		return LocalRunner{}
	}
	return r
}
