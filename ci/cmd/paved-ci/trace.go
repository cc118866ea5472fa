package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/spans"
)

const traceUsage = `usage: paved-ci trace [--results DIR] [--save-spans FILE] -- dagger call ... results export --path=DIR

trace runs the command with its OpenTelemetry traces sent to paved-ci on
loopback, then writes into DIR/results.json, for each stage that ran, how
many container execs the Dagger engine served from its cache and how many
it ran. It exits with the command's exit status.

flags:
`

// runTrace wraps a dagger command. Cache counts are metrics: a problem
// collecting them is a warning and never changes the exit status, which is
// the command's, so wrapping `dagger call` cannot fail a pipeline.
func runTrace(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("paved-ci trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), traceUsage); fs.PrintDefaults() }
	dir := fs.String("results", "./paved-results", "results directory the command exports (results export --path=DIR)")
	save := fs.String("save-spans", "", "also write every received span to FILE, one JSON object a line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "paved-ci trace: no command to run: put it after --, e.g. paved-ci trace -- dagger call ...\n")
		return exitError
	}
	warn := func(format string, a ...any) { fmt.Fprintf(stderr, "paved-ci trace: warning: "+format+"\n", a...) }
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if getenv(v) != "" {
			warn("%s is set; the command's traces go to paved-ci instead (its logs and metrics are unchanged)", v)
			break
		}
	}

	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	recv, err := spans.Listen()
	if err != nil {
		// no receiver, no counts: the command still runs, untraced
		warn("%v: running the command without cache counts", err)
		code, err := runChild(cmd)
		if err != nil {
			fmt.Fprintf(stderr, "paved-ci trace: %v\n", err)
			return exitError
		}
		return code
	}
	cmd.Env = append(os.Environ(), recv.Env()...)
	code, err := runChild(cmd)
	all, problems := recv.Close()
	if err != nil {
		fmt.Fprintf(stderr, "paved-ci trace: %v\n", err)
		return exitError
	}
	for _, p := range problems {
		warn("rejected a trace export: %s", p)
	}
	if *save != "" {
		if err := saveSpans(*save, all); err != nil {
			warn("--save-spans: %v", err)
		}
	}
	counts := spans.Count(all)
	switch {
	case len(all) == 0:
		warn("received no spans: %s must be the dagger CLI (v0.21 or newer), which exports to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", fs.Arg(0))
		return code
	case len(counts.Stages) == 0:
		warn("no %q span among %d: Dagger answered the whole call from its cache (the results are an earlier run's), or the paved module predates stage spans; results.json gets no cache counts", spans.StagePrefix+"<stage>", len(all))
		return code
	}
	printCounts(stderr, counts)
	run, err := results.Read(*dir)
	if err != nil {
		warn("%v; cache counts not recorded", err)
		return code
	}
	if unmatched := run.SetCache(counts.Stages); len(unmatched) > 0 {
		warn("stage spans %s match no stage that ran in %s", strings.Join(unmatched, ", "), filepath.Join(*dir, results.FileName))
	}
	if err := run.Write(*dir); err != nil {
		warn("%v; cache counts not recorded", err)
		return code
	}
	fmt.Fprintf(stderr, "paved-ci trace: cache counts written to %s\n", filepath.Join(*dir, results.FileName))
	return code
}

// runChild runs cmd, passing SIGINT and SIGTERM on so that cancelling the
// CI job stops dagger cleanly, and returns its exit status. An error means
// it could not be started.
func runChild(cmd *exec.Cmd) (int, error) {
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("cannot run %s: %v", cmd.Path, err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if c := ee.ExitCode(); c > 0 {
			return c, nil
		}
		return exitError, nil // killed by a signal
	}
	return 0, err
}

// printCounts starts on a new line: dagger may leave its last line open.
func printCounts(w io.Writer, c spans.Counts) {
	fmt.Fprintf(w, "\npaved-ci trace: %d spans; container execs per stage, as the Dagger engine marked them:\n", c.Spans)
	row := func(name string, hits, misses any) { fmt.Fprintf(w, "  %-16s %10v %5v\n", name, hits, misses) }
	row("stage", "from cache", "ran")
	for _, name := range c.Names() {
		row(name, c.Stages[name].Hits, c.Stages[name].Misses)
	}
	row("(outside stages)", c.Outside.Hits, c.Outside.Misses)
}

func saveSpans(path string, all []spans.Span) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := spans.WriteJSONLines(f, all); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
