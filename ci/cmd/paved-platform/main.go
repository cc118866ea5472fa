// Command paved-platform is the platform team's tool for paved's module
// lifecycle: releases, API-break checks, pin upgrades in application
// repositories, the adoption/health report from run records, and the
// cluster admission policies matching paved's verify policy.
//
//	paved-platform release --module build [--dry-run] [--version v2.0.0]
//	paved-platform api [--check | --write] [--module build]
//	paved-platform upgrade --app DIR --paved-repo CLONE [--major] [--write]
//	paved-platform report --records DIR --out DIR [--paved-repo CLONE]
//	paved-platform admission --public-key cosign.pub --require cyclonedx,vuln --max-severity HIGH --images 'registry.example.com/team/**'
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/api"
	"github.com/paved-ci/paved/pipelines/lifecycle/release"
	"github.com/paved-ci/paved/pipelines/lifecycle/report"
	"github.com/paved-ci/paved/pipelines/lifecycle/upgrade"
)

const usage = `usage: paved-platform <command> [flags]

commands:
  release   compute the next version of a module, write its changelog and tag it
  api       extract each module's public API into api.json (--check, --write)
  upgrade   propose and write newer paved pins for an application repository
  report    aggregate run records (results.json) into a Markdown and HTML report
  admission write the Kyverno and policy-controller policies for paved's verify policy

run "paved-platform <command> -h" for the flags of a command
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Writer) error{
		"release":   cmdRelease,
		"api":       cmdAPI,
		"upgrade":   cmdUpgrade,
		"report":    cmdReport,
		"admission": cmdAdmission,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "paved-platform: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := cmd(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "paved-platform %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every input is a flag", fs.Args())
	}
	return nil
}

func cmdRelease(args []string, out io.Writer) error {
	fs := flags("release")
	repo := fs.String("repo", ".", "paved repository work tree")
	module := fs.String("module", "", `module to release: "root" or a folder name under modules/ (required)`)
	version := fs.String("version", "", "release this version instead of the computed one, e.g. v1.0.0")
	dry := fs.Bool("dry-run", false, "print the version and changelog section; write and tag nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *module == "" {
		return errors.New(`--module is required: "root" or a folder name under modules/`)
	}
	p, err := release.Compute(release.Options{Root: *repo, Module: *module, Version: *version})
	if err != nil {
		return err
	}
	last := "none"
	if p.Last != nil {
		last = p.Last.Tag
	}
	fmt.Fprintf(out, "module:   %s (%s)\nlast:     %s\nnext:     %s (%s bump from %d commits)\npaths:    %s\n",
		p.Module.Name, p.Module.Dir, last, p.Next.Tag, p.Bump, len(p.Commits), strings.Join(p.Paths, " "))
	for _, n := range p.Notes {
		fmt.Fprintf(out, "note:     %s\n", n)
	}
	fmt.Fprintf(out, "\n%s\n", p.Section)
	if *dry {
		if p.Dirty {
			fmt.Fprintln(out, "warning: the work tree has uncommitted changes; a real release refuses them")
		}
		fmt.Fprintln(out, "dry run: nothing written, no tag created")
		return nil
	}
	if err := p.Apply(*repo); err != nil {
		return err
	}
	fmt.Fprintf(out, "committed %s and tagged %s; publish with: git push origin HEAD %s\n", p.Module.ChangelogPath(), p.Next.Tag, p.Next.Tag)
	return nil
}

func cmdAPI(args []string, out io.Writer) error {
	fs := flags("api")
	repo := fs.String("repo", ".", "paved repository work tree")
	module := fs.String("module", "", "only this module (default: all)")
	check := fs.Bool("check", false, "fail when an api.json differs from the module source")
	write := fs.Bool("write", false, "rewrite stale api.json files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *check && *write {
		return errors.New("--check and --write exclude each other")
	}
	mods, err := lifecycle.Discover(*repo)
	if err != nil {
		return err
	}
	if *module != "" {
		m, err := lifecycle.Find(mods, *module)
		if err != nil {
			return err
		}
		mods = []lifecycle.Module{m}
	}
	switch {
	case *write:
		changed, err := api.Write(*repo, mods)
		for _, p := range changed {
			fmt.Fprintf(out, "wrote %s\n", p)
		}
		if err == nil && len(changed) == 0 {
			fmt.Fprintln(out, "every api.json is up to date")
		}
		return err
	case *check:
		stale, err := api.Check(*repo, mods)
		if err != nil {
			return err
		}
		if len(stale) == 0 {
			fmt.Fprintf(out, "%d api.json files up to date\n", len(mods))
			return nil
		}
		var names []string
		for _, s := range stale {
			names = append(names, s.Module.APIPath())
		}
		return fmt.Errorf("stale or missing: %s; fix with `%s` and commit", strings.Join(names, ", "), api.FixCommand)
	}
	for _, m := range mods {
		a, err := api.Of(*repo, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "# %s (%s)\n", m.Name, m.APIPath())
		out.Write(a.Marshal())
		for _, d := range a.Deprecations() {
			fmt.Fprintf(out, "deprecated %s: %s\n", d.What, d.Advice)
		}
	}
	return nil
}

func cmdUpgrade(args []string, out io.Writer) error {
	fs := flags("upgrade")
	app := fs.String("app", ".", "application repository (dagger.json and/or go.mod)")
	clone := fs.String("paved-repo", "", "local clone of paved with its tags (required; nothing is fetched)")
	major := fs.Bool("major", false, "propose the next major version instead of the newest compatible one")
	write := fs.Bool("write", false, "rewrite dagger.json pins and go.mod")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *clone == "" {
		return errors.New("--paved-repo is required: a local clone of paved with tags (git clone --filter=blob:none https://github.com/paved-ci/paved)")
	}
	plan, err := upgrade.Propose(upgrade.Options{App: *app, Paved: *clone, Major: *major})
	if err != nil {
		return err
	}
	fmt.Fprint(out, plan.Text())
	if !*write {
		if plan.Changes() > 0 {
			fmt.Fprintln(out, "\nrun again with --write to apply")
		}
		return nil
	}
	files, err := plan.Write()
	for _, f := range files {
		fmt.Fprintf(out, "wrote %s\n", f)
	}
	return err
}

func cmdReport(args []string, out io.Writer) error {
	fs := flags("report")
	records := fs.String("records", "", "folder of run records (results.json files, searched recursively) (required)")
	dir := fs.String("out", "", "folder for report.md and report.html (required)")
	clone := fs.String("paved-repo", "", "optional paved clone: its tags define the newest versions")
	soon := fs.Duration("expiring-within", 14*24*time.Hour, "list exceptions expiring within this duration")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *records == "" || *dir == "" {
		return errors.New("--records and --out are required")
	}
	r, err := report.Build(report.Options{Records: *records, Paved: *clone, Now: time.Now(), ExpiringWithin: *soon})
	if err != nil {
		return err
	}
	md, html, err := r.WriteFiles(*dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d records read, %d skipped\nwrote %s\nwrote %s\n", r.Read, len(r.Skipped), md, html)
	return nil
}
