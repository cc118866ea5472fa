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
