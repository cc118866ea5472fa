package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// DefaultMaskEnv names the variables the templates carry secrets in; their
// values are masked before anything else is printed. GitHub masks
// `secrets.*` on its own, but not values minted in a job (the keyless OIDC
// token) nor secrets a caller passed in through other variables.
var DefaultMaskEnv = []string{"REGISTRY_PASSWORD", "COSIGN_KEY", "COSIGN_PASSWORD", "SIGSTORE_ID_TOKEN"}

// maxAnnotations caps annotations per kind; GitHub shows only the first few
// per step anyway and a flood buries the real failure.
const maxAnnotations = 50

// GitHubOptions configure WriteGitHub.
type GitHubOptions struct {
	Getenv Getenv    // nil: os.Getenv
	Stdout io.Writer // workflow commands and the log summary
	Stderr io.Writer // notices about what could not be written
	Source *Source   // maps report file names to repository paths
	// MaskEnv lists variables whose values are secret.
	MaskEnv []string
}

// WriteGitHub writes everything a GitHub Actions step can show: masks,
// annotations, step outputs (GITHUB_OUTPUT), the step summary
// (GITHUB_STEP_SUMMARY) and the terminal summary in the log. When a file
// variable is unset (a run outside a step) it says so and prints the
// content to the log instead. It never panics: go-githubactions panics on
// file errors, which are turned into the returned error.
func WriteGitHub(b *Bundle, o GitHubOptions) (err error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Source == nil {
		o.Source = &Source{}
	}
	a := githubactions.New(githubactions.WithWriter(o.Stdout), githubactions.WithGetenv(githubactions.GetenvFunc(o.Getenv)))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing GitHub Actions output: %v", p)
		}
	}()

	mask(a, o.Getenv, o.MaskEnv)
	annotate(a, b, o.Source, o.Stderr)

	if o.Getenv("GITHUB_OUTPUT") == "" {
		fmt.Fprintln(o.Stderr, "paved: GITHUB_OUTPUT is not set, so step outputs are not written (run this as a step of a GitHub Actions job); they are:")
		for _, out := range GitHubOutputs(b) {
			fmt.Fprintf(o.Stderr, "  %s=%s\n", out.Name, out.Value)
		}
	} else {
		for _, out := range GitHubOutputs(b) {
			if err := setOutput(a, out.Name, out.Value); err != nil {
				return err
			}
		}
	}

	md := Markdown(b)
	if o.Getenv("GITHUB_STEP_SUMMARY") == "" {
		fmt.Fprintln(o.Stderr, "paved: GITHUB_STEP_SUMMARY is not set, so the job summary is not written; it is:")
		fmt.Fprintln(o.Stderr, md)
	} else {
		a.AddStepSummary(limitSummary(md))
	}
	return Terminal(o.Stdout, b)
}

// mask issues add-mask for every line of every named variable's value: the
// runner matches masks line by line, so a multi-line secret (a PEM key)
// must be masked per line.
func mask(a *githubactions.Action, getenv Getenv, names []string) {
	for _, n := range names {
		for _, l := range strings.Split(getenv(n), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				a.AddMask(l)
			}
		}
	}
}

// setOutput writes one output in the runner's heredoc form with a random
// delimiter. go-githubactions' SetOutput uses a fixed delimiter, so a value
// containing that text would end early and corrupt the file; the random
// delimiter is redrawn until it occurs in neither name nor value, as
// actions/toolkit does.
func setOutput(a *githubactions.Action, name, value string) error {
	var delim string
	for i := 0; ; i++ {
		var buf [16]byte
		if _, err := rand.Read(buf[:]); err != nil {
			return err
		}
		delim = "ghadelimiter_" + hex.EncodeToString(buf[:])
		if !strings.Contains(value, delim) && !strings.Contains(name, delim) {
			break
		}
		if i > 8 {
			return fmt.Errorf("output %s: could not pick a heredoc delimiter", name)
		}
	}
	a.IssueFileCommand(&githubactions.Command{
		Name:    "output",
		Message: name + "<<" + delim + "\n" + value + "\n" + delim,
	})
	return nil
}

// summaryLimit is GitHub's per-step summary limit (1 MiB); past it the
// runner drops the summary and fails the upload, so cut it short instead.
const summaryLimit = 1 << 20

func limitSummary(md string) string {
	if len(md) <= summaryLimit {
		return md
	}
	const note = "\n\n_… summary cut at GitHub's 1 MiB limit; see the uploaded results directory._\n"
	cut := summaryLimit - len(note)
	for cut > 0 && !isRuneStart(md[cut]) {
		cut--
	}
	return md[:cut] + note
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// annotate turns failing tests (JUnit) and source findings (SARIF) into
// error/warning annotations at file and line.
func annotate(a *githubactions.Action, b *Bundle, src *Source, stderr io.Writer) {
	if tests, err := b.Tests(); err != nil {
		fmt.Fprintf(stderr, "paved: no test annotations: %v\n", err)
	} else if tests != nil {
		n := 0
		for _, f := range tests.Failures {
			if n == maxAnnotations {
				fmt.Fprintf(stderr, "paved: %d more failing tests not annotated\n", len(tests.Failures)-n)
				break
			}
			fields := map[string]string{"title": "test failed: " + f.Title()}
			if p := src.Locate(f.File, f.Class); p != "" {
				fields["file"] = src.RepoPath(p)
				if f.Line > 0 {
					fields["line"] = fmt.Sprint(f.Line)
				}
			}
			msg := f.Detail
			if !strings.Contains(f.Detail, f.Message) {
				msg = strings.TrimSpace(f.Message + "\n" + f.Detail)
			}
			a.WithFieldsMap(fields).Errorf("%s", msg)
			n++
		}
	}
	p, ok := b.File("sarif")
	if !ok {
		return
	}
	findings, err := ReadSARIF(p)
	if err != nil {
		fmt.Fprintf(stderr, "paved: no finding annotations: %v\n", err)
		return
	}
	n := 0
	for _, f := range findings {
		// Image findings (paths inside the image) are in the summary's
		// findings table; only files of the checkout get annotations.
		path := src.Locate(f.File, "")
		if path == "" {
			continue
		}
		if n == maxAnnotations {
			fmt.Fprintln(stderr, "paved: more source findings not annotated (annotation cap reached)")
			break
		}
		fields := map[string]string{"file": src.RepoPath(path), "title": strings.TrimSpace("finding " + f.Rule)}
		if f.Line > 0 {
			fields["line"] = fmt.Sprint(f.Line)
		}
		aa := a.WithFieldsMap(fields)
		switch f.Level {
		case "error":
			aa.Errorf("%s", f.Message)
		case "note", "none":
			aa.Noticef("%s", f.Message)
		default:
			aa.Warningf("%s", f.Message)
		}
		n++
	}
}
