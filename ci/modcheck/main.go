// Command modcheck compiles every Dagger module in the repository against
// the real dagger.io/dagger v0.21.9 API without an engine.
//
// `dagger develop` needs an engine to generate a module's client package
// (dagger/<name>/internal/dagger). modcheck stands in for it: it copies the
// module into a temporary directory, generates internal/dagger from the
// dagger.io/dagger package source of the pinned version — as its own
// package, never an alias of dagger.io/dagger, just as real code generation
// makes it — and builds and vets the module with GOEXPERIMENT unset (the
// engine cannot set it). It also checks each module's dagger.json and
// go.mod against paved's rules and that every function with side effects
// opts out of Dagger's function cache.
//
// It checks that the code compiles and is wired as paved requires; it does
// not run anything on an engine.
//
// Usage: go run ./ci/modcheck [-root DIR] [-fix] [module dirs...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// fix writes the tidied go.mod and go.sum back into each module.
var fix = flag.Bool("fix", false, "write go.mod and go.sum as dagger develop would (go mod tidy with the generated code's imports)")

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	abs, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs, err = FindModules(abs)
		if err != nil {
			fmt.Fprintln(os.Stderr, "modcheck:", err)
			os.Exit(2)
		}
	}
	if len(dirs) == 0 {
		fmt.Fprintln(os.Stderr, "modcheck: no dagger.json found under", abs)
		os.Exit(1)
	}
	failed, skipped := 0, 0
	for i, d := range dirs {
		if dirs[i], err = filepath.Abs(d); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		d = dirs[i]
		if err := Check(abs, d); errors.Is(err, ErrNeedsEngine) {
			skipped++
			fmt.Printf("skip %s: %v\n", rel(abs, d), err)
			continue
		} else if err != nil {
			failed++
			fmt.Printf("FAIL %s\n%v\n", rel(abs, d), err)
			continue
		}
		fmt.Printf("ok   %s\n", rel(abs, d))
	}
	fmt.Printf("modcheck: %d passed, %d failed, %d not compiled (need an engine)\n", len(dirs)-failed-skipped, failed, skipped)
	if failed > 0 {
		os.Exit(1)
	}
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
