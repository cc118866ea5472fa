// Package builder is how the golden path turns an app folder into an image
// and runs the app's own tests: one small interface (ko's pkg/build is the
// model), one package per builder, and one ordered list of them (golden's
// Builders) that "auto" walks. A new builder is a new package and a line in
// that list.
package builder

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Auto picks the first builder of the list whose Detect matches.
const Auto = "auto"

// Builder builds one kind of app.
type Builder interface {
	// Name is what --builder takes and the summary shows ("go").
	Name() string
	// Flags are the builder-specific options it honours (Flag* names);
	// any other one set by the user is refused, not ignored.
	Flags() []string
	// Detect reports whether the app folder is one this builder builds;
	// when not, miss says what is missing ("no go.mod in services/api").
	Detect(ctx context.Context, src *dagger.Directory, o Options) (miss string, err error)
	// Stages checks o without an engine and returns the builder's stages
	// of the golden path, build first (then lint, test).
	Stages(o Options) ([]pipeline.Stage, error)
}

// Builder-specific option names, as the module's flags spell them.
const (
	FlagMain         = "main"
	FlagBuildTags    = "build-tags"
	FlagRace         = "race"
	FlagLint         = "lint"
	FlagDockerfile   = "dockerfile"
	FlagBuildArgs    = "build-args"
	FlagBuildSecrets = "build-secrets"
	FlagTestCommand  = "test-command"
	FlagGoEnv        = "goproxy/goprivate/gonosumdb"
	FlagNetrc        = "netrc"
)

// Options are what a user asks of any builder.
type Options struct {
	// Dir is the app's folder inside the source ("" for the root).
	Dir       string
	Platforms []string
	// Version overrides the version read from git.
	Version string
	Images  *images.Set

	// Go: main package relative to Dir, build tags, race detector, lint;
	// the toolchain's module settings (GOPROXY, GOPRIVATE, GONOSUMDB; never
	// secrets) and a netrc secret for private modules.
	Main  string
	Tags  []string
	Race  bool
	Lint  bool
	Env   map[string]string
	Netrc *dagger.Secret

	// Dockerfile: its path relative to Dir, build args (NAME=VALUE),
	// build secrets, and a test command for apps without a test stage.
	Dockerfile   string
	BuildArgs    []string
	BuildSecrets []*dagger.Secret
	TestCommand  string
}

// set lists the builder-specific options the user set.
func (o Options) set() []string {
	var out []string
	add := func(on bool, name string) {
		if on {
			out = append(out, name)
		}
	}
	add(o.Main != "" && path.Clean(o.Main) != ".", FlagMain)
	add(len(o.Tags) > 0, FlagBuildTags)
	add(o.Race, FlagRace)
	add(o.Lint, FlagLint)
	add(len(o.Env) > 0, FlagGoEnv)
	add(o.Netrc != nil, FlagNetrc)
	add(o.Dockerfile != "", FlagDockerfile)
	add(len(o.BuildArgs) > 0, FlagBuildArgs)
	add(len(o.BuildSecrets) > 0, FlagBuildSecrets)
	add(o.TestCommand != "", FlagTestCommand)
	return out
}

// Names lists the builders' names, "auto" first.
func Names(list []Builder) []string {
	out := []string{Auto}
	for _, b := range list {
		out = append(out, b.Name())
	}
	return out
}

// Lookup finds a builder by name ("" or "auto" returns nil: detect).
func Lookup(list []Builder, name string) (Builder, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == Auto {
		return nil, nil
	}
	for _, b := range list {
		if b.Name() == n {
			return b, nil
		}
	}
	return nil, fmt.Errorf("builder %q: no such builder (choose one of %s)", name, strings.Join(Names(list), ", "))
}

// Choose returns the builder named (or, for auto, the first of list whose
// Detect matches) and refuses options it would not honour. Only file
// lookups in src; no container runs.
func Choose(ctx context.Context, src *dagger.Directory, list []Builder, name string, o Options) (Builder, error) {
	if err := gotool.CheckDir(o.Dir); err != nil {
		return nil, err
	}
	b, err := Lookup(list, name)
	if err != nil {
		return nil, err
	}
	where := displayDir(o.Dir)
	if b != nil {
		miss, err := b.Detect(ctx, src, o)
		if err != nil {
			return nil, err
		}
		if miss != "" {
			return nil, fmt.Errorf("builder %s: %s", b.Name(), miss)
		}
	} else {
		var misses []string
		for _, c := range list {
			miss, err := c.Detect(ctx, src, o)
			if err != nil {
				return nil, err
			}
			if miss == "" {
				b = c
				break
			}
			misses = append(misses, c.Name()+": "+miss)
		}
		if b == nil {
			return nil, fmt.Errorf("no builder takes %s (%s); set --dir to the app's folder", where, strings.Join(misses, "; "))
		}
	}
	if err := Refuse(b, list, o); err != nil {
		return nil, err
	}
	return b, nil
}

// Refuse fails when o sets an option b does not honour, naming the
// builders that would.
func Refuse(b Builder, list []Builder, o Options) error {
	var bad []string
	for _, f := range o.set() {
		if !slices.Contains(b.Flags(), f) {
			bad = append(bad, "--"+f)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	var others []string
	for _, c := range list {
		if c.Name() == b.Name() {
			continue
		}
		takes := true
		for _, f := range bad {
			takes = takes && slices.Contains(c.Flags(), strings.TrimPrefix(f, "--"))
		}
		if takes {
			others = append(others, "--builder="+c.Name())
		}
	}
	hint := "drop them"
	if len(others) > 0 {
		hint = "pass " + strings.Join(others, " or ") + " to build that way, or drop them"
	}
	return fmt.Errorf("the %s builder, which builds %s, does not take %s: %s", b.Name(), displayDir(o.Dir), strings.Join(bad, ", "), hint)
}

func displayDir(d string) string {
	d = strings.Trim(path.Clean("/"+strings.TrimSpace(d)), "/")
	if d == "" {
		return "the source root"
	}
	return d
}

// Exists reports whether the regular file rel exists in src.
func Exists(ctx context.Context, src *dagger.Directory, rel string) (bool, error) {
	ok, err := src.Exists(ctx, rel, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return false, fmt.Errorf("looking for %s in the source: %w", rel, err)
	}
	return ok, nil
}
