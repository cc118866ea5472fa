// Package enginetest gives engine-backed tests a real Dagger client, or
// skips them with one line when no engine is reachable.
package enginetest

import (
	"os"
	"os/exec"
	"testing"

	"dagger.io/dagger"
)

// Reachable reports whether a Dagger engine can be reached: a session
// (DAGGER_SESSION_PORT, as under `dagger run`) or a dagger CLI on PATH.
func Reachable() bool {
	if os.Getenv("DAGGER_SESSION_PORT") != "" {
		return true
	}
	_, err := exec.LookPath("dagger")
	return err == nil
}

// Client connects to the engine or skips the test.
func Client(t *testing.T) *dagger.Client {
	t.Helper()
	if !Reachable() {
		t.Skip("no Dagger engine: DAGGER_SESSION_PORT is unset and no dagger CLI is on PATH (run under `dagger run go test ./...`)")
	}
	if testing.Short() {
		t.Skip("-short: engine-backed test not run")
	}
	c, err := dagger.Connect(t.Context(), dagger.WithLogOutput(os.Stderr))
	if err != nil {
		t.Fatalf("connecting to the Dagger engine: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// DBRepositoryEnv names a mirror of trivy's vulnerability DB for the engine
// tests (an offline engine cannot reach trivy's default).
const DBRepositoryEnv = "PAVED_TRIVY_DB_REPOSITORY"

// DBRepository is the DB mirror the engine tests scan with; "" is trivy's
// default.
func DBRepository() string { return os.Getenv(DBRepositoryEnv) }

// NoPackageRegistriesEnv, set to 1, says the engine's containers reach no
// package registry (npm, PyPI): an offline engine. Apps whose Dockerfile
// installs packages are then skipped, by name.
const NoPackageRegistriesEnv = "PAVED_ENGINE_NO_PACKAGE_REGISTRIES"

// NoPackageRegistries reports NoPackageRegistriesEnv=1.
func NoPackageRegistries() bool { return os.Getenv(NoPackageRegistriesEnv) == "1" }
