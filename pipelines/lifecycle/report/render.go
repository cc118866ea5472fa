package report

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Markdown renders the report for a wiki page or a pull request.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# paved platform report\n\nGenerated %s from %d run records of %d repositories", r.Generated.Format(time.RFC3339), r.Read, r.Repos)
	fmt.Fprintf(&b, "; %d records skipped.\n", len(r.Skipped))
	b.WriteString("\n## Adoption by module version\n\nEach repository counts once, with the versions of its latest run.\n")
	for _, a := range r.Adoption {
		fmt.Fprintf(&b, "\n### %s (newest %s, %d repositories behind)\n\n| Version | Repositories | Releases behind | Which |\n| --- | ---: | ---: | --- |\n", a.Module, orDash(a.Newest), a.Behind)
		for _, v := range a.Versions {
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", md(v.Version), len(v.Repos), behind(v.Behind), md(strings.Join(v.Repos, ", ")))
		}
	}
	b.WriteString("\n## Pipeline health by paved version\n\n| Version | Runs | Passed | Success rate |\n| --- | ---: | ---: | ---: |\n")
	for _, h := range r.Health {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f%% |\n", md(h.Version), h.Runs, h.Passed, h.SuccessRate())
	}
	b.WriteString("\n## Stage trend by paved version\n\n" + trendNote + "\n\n| Stage | Version | Runs | Pass rate | Median | p90 | Cache hits | Traced runs |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, t := range r.Stages {
		for _, v := range t.Versions {
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f%% | %s | %s | %s | %d |\n", md(t.Stage), md(v.Version), v.Runs, v.PassRate(), dur(v.Median), dur(v.P90), hits(v), v.Traced)
		}
	}
	b.WriteString("\n## Top failing stages\n\n")
	if len(r.FailingStages) == 0 {
		b.WriteString("No stage failed.\n")
	} else {
		b.WriteString("| Stage | Failures | Repositories | Last reason |\n| --- | ---: | ---: | --- |\n")
		for _, f := range r.FailingStages {
			fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", md(f.Stage), f.Failures, f.Repos, md(f.LastReason))
		}
	}
	if r.HasExceptions {
		fmt.Fprintf(&b, "\n## Exceptions expiring within %s\n\n", days(r.ExpiringWithin))
		if len(r.Exceptions) == 0 {
			b.WriteString("None.\n")
		} else {
			b.WriteString("| Expires | Repository | ID | Owner | Reason |\n| --- | --- | --- | --- | --- |\n")
			for _, x := range r.Exceptions {
				when := x.Expires.Format("2006-01-02")
				if x.Expired {
					when += " (expired)"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", when, md(x.Repo), md(x.ID), md(x.Owner), md(x.Reason))
			}
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "\n## Skipped records (%d)\n\n| File | Why |\n| --- | --- |\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "| %s | %s |\n", md(s.Path), md(s.Reason))
		}
	}
	return b.String()
}

// trendNote says what the trend figures count, in both renderings.
const trendNote = "Each stage over paved versions, oldest first, development builds last. " +
	"Runs, pass rate, median and p90 (nearest rank) count the runs where the stage ran, not those that skipped it. " +
	"Cache hits are the container execs the Dagger engine marked as served from its cache, out of all the execs it reported, " +
	"summed over the runs recorded with `paved-ci trace` (traced runs); - when none was traced."

// hits renders a cache-hit ratio with its counts: "75.0% (6 of 8)".
func hits(v StageVersion) string {
	pct, ok := v.HitRatio()
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d of %d)", pct, v.Cache.Hits, v.Cache.Hits+v.Cache.Misses)
}

func md(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func behind(n int) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func dur(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }

func days(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) }

// Bar is one row of a horizontal bar chart.
type Bar struct {
	Label string
	Value float64
	Text  string
}

// Chart renders a horizontal bar chart as inline SVG; max is the value of a
// full-width bar (0: the largest value).
func Chart(title string, bars []Bar, max float64) template.HTML {
	const labelW, barW, rowH, top = 200, 460, 26, 30
	if max == 0 {
		for _, b := range bars {
			if b.Value > max {
				max = b.Value
			}
		}
	}
	h := top + rowH*len(bars) + 10
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%d" height="%d" viewBox="0 0 %d %d"><title>%s</title>`, labelW+barW+90, h, labelW+barW+90, h, esc(title))
	fmt.Fprintf(&s, `<text x="0" y="18" class="ct">%s</text>`, esc(title))
	for i, b := range bars {
		y := top + i*rowH
		w := 0.0
		if max > 0 {
			w = b.Value / max * barW
		}
		if b.Value > 0 && w < 2 {
			w = 2 // a non-zero value stays visible
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" class="cl">%s</text>`, labelW-8, y+17, esc(b.Label))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="3" class="bar"><title>%s: %s</title></rect>`, labelW, y+4, w, rowH-8, esc(b.Label), esc(b.Text))
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" class="cv">%s</text>`, float64(labelW)+w+6, y+17, esc(b.Text))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// HTML renders a self-contained page: inline CSS and SVG, no script, no
// external resource, so it opens offline and in a CI artifact viewer.
func (r *Report) HTML() (string, error) {
	var b strings.Builder
	err := page.Execute(&b, r)
	return b.String(), err
}

// WriteFiles writes report.md and report.html into dir.
func (r *Report) WriteFiles(dir string) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	mdPath, htmlPath := filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html")
	if err := os.WriteFile(mdPath, []byte(r.Markdown()), 0o644); err != nil {
		return "", "", err
	}
	h, err := r.HTML()
	if err != nil {
		return "", "", err
	}
	return mdPath, htmlPath, os.WriteFile(htmlPath, []byte(h), 0o644)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"adoptionChart": func(a Adoption) template.HTML {
		var bars []Bar
		for _, v := range a.Versions {
			bars = append(bars, Bar{Label: v.Version, Value: float64(len(v.Repos)), Text: fmt.Sprintf("%d repos", len(v.Repos))})
		}
		return Chart(a.Module+": repositories per version", bars, 0)
	},
	"healthChart": func(hs []Health) template.HTML {
		var bars []Bar
		for _, h := range hs {
			bars = append(bars, Bar{Label: h.Version, Value: h.SuccessRate(), Text: fmt.Sprintf("%.1f%% of %d runs", h.SuccessRate(), h.Runs)})
		}
		return Chart("Pipeline success rate by paved version", bars, 100)
	},
	"failChart": func(fs []StageFailures) template.HTML {
		var bars []Bar
		for _, f := range fs {
			bars = append(bars, Bar{Label: f.Stage, Value: float64(f.Failures), Text: fmt.Sprintf("%d failures", f.Failures)})
		}
		return Chart("Top failing stages", bars, 0)
	},
	"durChart": func(t StageTrend) template.HTML {
		var bars []Bar
		for _, v := range t.Versions {
			bars = append(bars, Bar{Label: v.Version, Value: v.Median.Seconds(), Text: dur(v.Median)}) // p90 is in the table: the label space is short
		}
		return Chart(t.Stage+": median duration by paved version", bars, 0)
	},
	// cacheChart has a bar for each version with a count only: an
	// untraced version has no ratio, not a ratio of 0.
	"cacheChart": func(t StageTrend) template.HTML {
		var bars []Bar
		for _, v := range t.Versions {
			if pct, ok := v.HitRatio(); ok {
				bars = append(bars, Bar{Label: v.Version, Value: pct, Text: hits(v)})
			}
		}
		if len(bars) == 0 {
			return ""
		}
		return Chart(t.Stage+": execs served from Dagger's cache by paved version", bars, 100)
	},
	"hits":      hits,
	"trendNote": func() string { return strings.ReplaceAll(trendNote, "`", "") },
	"join":      func(s []string) string { return strings.Join(s, ", ") },
	"behind":    behind,
	"dur":       dur,
	"days":      days,
	"date":      func(t time.Time) string { return t.Format("2006-01-02") },
	"rfc":       func(t time.Time) string { return t.Format(time.RFC3339) },
	"pct":       func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"orDash":    orDash,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>paved platform report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:1100px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
th{background:#f6f8fa}.chart{display:block;margin:1em 0}.bar{fill:#2f81f7}.ct{font-weight:600;font-size:15px}
.cl,.cv{font-size:13px}.warn{color:#9a6700}.expired{color:#cf222e}
</style></head><body>
<h1>paved platform report</h1>
<p>Generated {{rfc .Generated}} from <b>{{.Read}}</b> run records of <b>{{.Repos}}</b> repositories; <b id="skipped">{{len .Skipped}}</b> records skipped.</p>
<h2>Adoption by module version</h2>
<p>Each repository counts once, with the versions of its latest run.</p>
{{range .Adoption}}<h3>{{.Module}}: newest {{orDash .Newest}}, {{.Behind}} repositories behind</h3>
{{adoptionChart .}}
<table><tr><th>Version</th><th>Repositories</th><th>Releases behind</th><th>Which</th></tr>
{{range .Versions}}<tr><td>{{.Version}}</td><td>{{len .Repos}}</td><td>{{behind .Behind}}</td><td>{{join .Repos}}</td></tr>
{{end}}</table>
{{end}}
<h2>Pipeline health by paved version</h2>
{{healthChart .Health}}
<table><tr><th>Version</th><th>Runs</th><th>Passed</th><th>Success rate</th></tr>
{{range .Health}}<tr><td>{{.Version}}</td><td>{{.Runs}}</td><td>{{.Passed}}</td><td>{{pct .SuccessRate}}</td></tr>
{{end}}</table>
<h2>Stage trend by paved version</h2>
<p>{{trendNote}}</p>
{{range .Stages}}<h3>{{.Stage}}</h3>
{{durChart .}}{{cacheChart .}}
<table><tr><th>Version</th><th>Runs</th><th>Pass rate</th><th>Median</th><th>p90</th><th>Cache hits</th><th>Traced runs</th></tr>
{{range .Versions}}<tr><td>{{.Version}}</td><td>{{.Runs}}</td><td>{{pct .PassRate}}</td><td>{{dur .Median}}</td><td>{{dur .P90}}</td><td>{{hits .}}</td><td>{{.Traced}}</td></tr>
{{end}}</table>
{{end}}<h2>Top failing stages</h2>
{{if .FailingStages}}{{failChart .FailingStages}}
<table><tr><th>Stage</th><th>Failures</th><th>Repositories</th><th>Last reason</th></tr>
{{range .FailingStages}}<tr><td>{{.Stage}}</td><td>{{.Failures}}</td><td>{{.Repos}}</td><td>{{.LastReason}}</td></tr>
{{end}}</table>{{else}}<p>No stage failed.</p>{{end}}
{{if .HasExceptions}}<h2>Exceptions expiring within {{days .ExpiringWithin}}</h2>
{{if .Exceptions}}<table><tr><th>Expires</th><th>Repository</th><th>ID</th><th>Owner</th><th>Reason</th></tr>
{{range .Exceptions}}<tr class="{{if .Expired}}expired{{else}}warn{{end}}"><td>{{date .Expires}}{{if .Expired}} (expired){{end}}</td><td>{{.Repo}}</td><td>{{.ID}}</td><td>{{.Owner}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}{{end}}
{{if .Skipped}}<h2>Skipped records ({{len .Skipped}})</h2>
<table><tr><th>File</th><th>Why</th></tr>
{{range .Skipped}}<tr><td>{{.Path}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))
