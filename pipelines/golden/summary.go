package golden

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paved-ci/paved/pipelines/results"
)

// Summary renders the stages as a table a person reads in seconds.
func Summary(r *results.Run) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STAGE\tSTATUS\tTIME\tNOTE")
	for _, s := range r.Stages {
		d := "-"
		if s.Status != results.Skipped {
			d = s.Duration.Round(100 * time.Millisecond).String()
		}
		note := s.Reason
		if s.Mandated && s.Status == results.Skipped {
			note = "MANDATED STAGE SKIPPED: " + note
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, s.Status, d, note)
	}
	w.Flush()
	if len(r.Scanned) > 0 {
		fmt.Fprintf(&b, "scanned: %s\n", strings.Join(r.Scanned, ", "))
	}
	if r.Builder != "" {
		fmt.Fprintf(&b, "built by the %s builder\n", r.Builder)
	}
	if r.Version != "" {
		fmt.Fprintf(&b, "version %s, commit %.12s\n", r.Version, r.Commit)
	}
	if r.Passed() {
		b.WriteString("result: passed\n")
	} else {
		b.WriteString("result: FAILED — fix the first failed stage above; its reports are in the results directory\n")
	}
	return b.String()
}
