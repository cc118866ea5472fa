package version

import "testing"

// A test binary of paved itself has no module version: the fallback.
func TestGetFallsBackInATreeBuild(t *testing.T) {
	Fallback = "v9.9.9-test"
	if got := Get(); got != "v9.9.9-test" {
		t.Errorf("Get() = %q", got)
	}
}
