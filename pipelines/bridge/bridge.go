// Package bridge moves Dagger objects between a module's generated client
// package and dagger.io/dagger, which paved's stage code uses. The two are
// different Go packages with the same GraphQL types; an object crosses by
// its ID, on a dagger.io/dagger client connected to the same session.
package bridge

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
)

// IDer is any generated Dagger object: its ID is a string type.
type IDer[I ~string] interface {
	ID(ctx context.Context) (I, error)
}

// Connect opens the dagger.io/dagger client for the current session. In a
// module function the engine sets DAGGER_SESSION_PORT and
// DAGGER_SESSION_TOKEN, so this joins the caller's session.
func Connect(ctx context.Context) (*dagger.Client, error) {
	c, err := dagger.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Dagger session: %w", err)
	}
	return c, nil
}

func id[I ~string](ctx context.Context, what string, o IDer[I]) (string, error) {
	v, err := o.ID(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the ID of %s: %w", what, err)
	}
	return string(v), nil
}

// Directory converts a module Directory.
func Directory[I ~string](ctx context.Context, c *dagger.Client, d IDer[I]) (*dagger.Directory, error) {
	v, err := id(ctx, "directory", d)
	if err != nil {
		return nil, err
	}
	return c.LoadDirectoryFromID(dagger.DirectoryID(v)), nil
}

// File converts a module File.
func File[I ~string](ctx context.Context, c *dagger.Client, f IDer[I]) (*dagger.File, error) {
	v, err := id(ctx, "file", f)
	if err != nil {
		return nil, err
	}
	return c.LoadFileFromID(dagger.FileID(v)), nil
}

// Container converts a module Container.
func Container[I ~string](ctx context.Context, c *dagger.Client, ctr IDer[I]) (*dagger.Container, error) {
	v, err := id(ctx, "container", ctr)
	if err != nil {
		return nil, err
	}
	return c.LoadContainerFromID(dagger.ContainerID(v)), nil
}

// Secret converts a module Secret. Only the ID crosses; the plaintext stays
// in the engine until a stage asks for it.
func Secret[I ~string](ctx context.Context, c *dagger.Client, s IDer[I]) (*dagger.Secret, error) {
	v, err := id(ctx, "secret", s)
	if err != nil {
		return nil, err
	}
	return c.LoadSecretFromID(dagger.SecretID(v)), nil
}

// IDOf returns the ID of a dagger.io/dagger object for the way back: the
// module loads it with its own Load...FromID.
func IDOf[I ~string](ctx context.Context, o IDer[I]) (string, error) {
	return id(ctx, "result", o)
}

// IDsOf returns the IDs of several objects.
func IDsOf[I ~string, T IDer[I]](ctx context.Context, objs []T) ([]string, error) {
	out := make([]string, len(objs))
	for i, o := range objs {
		v, err := id(ctx, "result", o)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Secrets converts optional module secrets; a nil one stays nil, so the
// result lines up with the arguments.
func Secrets[I ~string, T interface {
	comparable
	IDer[I]
}](ctx context.Context, c *dagger.Client, in ...T) ([]*dagger.Secret, error) {
	var zero T
	out := make([]*dagger.Secret, len(in))
	for i, s := range in {
		if s == zero {
			continue
		}
		v, err := Secret(ctx, c, s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Files converts optional module files; a nil one stays nil.
func Files[I ~string, T interface {
	comparable
	IDer[I]
}](ctx context.Context, c *dagger.Client, in ...T) ([]*dagger.File, error) {
	var zero T
	out := make([]*dagger.File, len(in))
	for i, f := range in {
		if f == zero {
			continue
		}
		v, err := File(ctx, c, f)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// ImageSet builds the image table from the arguments every module takes:
// overrides (name=reference), a mirror prefix and an optional images file,
// read through the library client.
func ImageSet[I ~string, T interface {
	comparable
	IDer[I]
}](ctx context.Context, c *dagger.Client, overrides []string, mirror string, file T) (*images.Set, error) {
	content := ""
	var zero T
	if file != zero {
		f, err := File(ctx, c, file)
		if err != nil {
			return nil, err
		}
		if content, err = f.Contents(ctx); err != nil {
			return nil, fmt.Errorf("reading images-file: %w", err)
		}
	}
	return images.FromArgs(overrides, mirror, strings.TrimSpace(content))
}

// FileBytes is the content of an optional file argument of a module
// (nil when it was not given); what names the argument in errors.
func FileBytes[I ~string, T interface {
	comparable
	IDer[I]
}](ctx context.Context, c *dagger.Client, what string, f T) ([]byte, error) {
	fs, err := Files(ctx, c, f)
	if err != nil || fs[0] == nil {
		return nil, err
	}
	s, err := fs[0].Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return []byte(s), nil
}

// GoModules converts the private-module flags every Go function takes:
// --goproxy/--goprivate/--gonosumdb as checked toolchain settings, and the
// optional --netrc secret.
func GoModules[I ~string, T interface {
	comparable
	IDer[I]
}](ctx context.Context, c *dagger.Client, proxy, private, noSumDB string, netrc T) (map[string]string, *dagger.Secret, error) {
	env := gotool.ModuleEnv(proxy, private, noSumDB)
	if err := gotool.CheckEnv(env); err != nil {
		return nil, nil, err
	}
	s, err := Secrets(ctx, c, netrc)
	if err != nil {
		return nil, nil, err
	}
	return env, s[0], nil
}
