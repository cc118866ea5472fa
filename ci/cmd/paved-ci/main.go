// Command paved-ci turns a paved results directory into the CI system's own
// outputs. It runs on the CI host after `dagger call ... results export`:
//
//	go run github.com/paved-ci/paved/ci/cmd/paved-ci@VERSION report --results ./paved-results
//
// The provider (GitHub Actions, GitLab CI, or a local terminal) is detected
// from the environment; --provider overrides it.
//
//	paved-ci trace -- dagger call ... results export --path=./paved-results
//
// runs the dagger command with its traces sent to paved-ci and records, per
// stage, the container execs Dagger served from its cache (see trace.go).
//
// It imports only pipelines/ci, pipelines/results, pipelines/spans (standard
// library only), the standard library and go-githubactions, so a cold
// `go run` builds in seconds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/paved-ci/paved/pipelines/ci"
)

// Exit codes: the run failed (a stage failed) is distinct from paved-ci
// itself failing, so a workflow can tell "tests failed" from "no results".
const (
	exitOK        = 0
	exitRunFailed = 1
	exitError     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `usage: paved-ci report --results DIR [flags]
       paved-ci trace [--results DIR] -- dagger call ... results export --path=DIR
       paved-ci version

report writes the results of a paved run for the CI system it runs in:
  GitHub Actions  step outputs (digest, image, tags, sbom, passed), job summary,
                  annotations for failing tests and source findings
  GitLab CI       paved-reports/paved.env (dotenv) and report files at the
                  paths the paved component declares
  local           a terminal summary

trace runs a dagger command and adds to DIR/results.json how many container
execs of each stage Dagger served from its cache; "paved-ci trace -h" for more.

report flags:
`

func run(args []string, getenv ci.Getenv, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, version())
		return exitOK
	case "report":
	case "trace":
		return runTrace(args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		fs, _ := reportFlags(stdout)
		fs.PrintDefaults()
		return exitOK
	default:
		fmt.Fprintf(stderr, "paved-ci: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
	fs, o := reportFlags(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "paved-ci report: unexpected argument %q (flags only)\n", fs.Arg(0))
		return exitError
	}
	provider, err := ci.ParseProvider(o.provider, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "paved-ci report: --provider: %v\n", err)
		return exitError
	}
	b, err := ci.Load(o.results)
	if err != nil {
		fmt.Fprintf(stderr, "paved-ci report: %v\n", err)
		return exitError
	}
	switch provider {
	case ci.GitHub:
		err = ci.WriteGitHub(b, ci.GitHubOptions{
			Getenv: getenv, Stdout: stdout, Stderr: stderr,
			Source: &ci.Source{Root: o.source}, MaskEnv: o.maskEnv(),
		})
	case ci.GitLab:
		_, err = ci.WriteGitLab(b, ci.GitLabOptions{Dir: o.gitlabDir, Stdout: stdout, Stderr: stderr})
	default:
		err = ci.Terminal(stdout, b)
	}
	if err != nil {
		fmt.Fprintf(stderr, "paved-ci report (%s): %v\n", provider, err)
		return exitError
	}
	if o.failOnFailed && !b.Run.Passed() {
		return exitRunFailed
	}
	return exitOK
}

type reportOpts struct {
	results, provider, source, gitlabDir, mask string
	failOnFailed                               bool
}

func reportFlags(out io.Writer) (*flag.FlagSet, *reportOpts) {
	opts := &reportOpts{}
	fs := flag.NewFlagSet("paved-ci report", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&opts.results, "results", "./paved-results", "results directory exported by `dagger call ... results export --path=DIR`")
	fs.StringVar(&opts.provider, "provider", "auto", "auto, local, github or gitlab (auto: GITHUB_ACTIONS=true → github, GITLAB_CI=true → gitlab, else local)")
	fs.StringVar(&opts.source, "source", ".", "repository checkout that report file names are relative to (for annotations)")
	fs.StringVar(&opts.gitlabDir, "gitlab-dir", ".", "project directory the GitLab report paths (paved-reports/...) are written under")
	fs.StringVar(&opts.mask, "mask-env", strings.Join(ci.DefaultMaskEnv, ","), "comma-separated variables whose values are masked in GitHub logs")
	fs.BoolVar(&opts.failOnFailed, "fail-on-failed", true, "exit 1 when the paved run failed (after writing every report)")
	return fs, opts
}

func (o reportOpts) maskEnv() []string {
	var out []string
	for _, n := range strings.Split(o.mask, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return "paved-ci " + bi.Main.Version
	}
	return "paved-ci (devel)"
}
