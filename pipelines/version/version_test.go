package version

import "testing"

// A test binary of paved itself has no module version: the stamped
// VERSION file when a module stamped one, else the fallback.
func TestGetUsesTheStampedVersionFile(t *testing.T) {
	t.Cleanup(func() { Stamp("") })
	Stamp("")
	if got := Get(); got != Fallback {
		t.Errorf("unstamped Get() = %q, want %q", got, Fallback)
	}
	Stamp("v1.2.0\n")
	if got := Get(); got != "v1.2.0" {
		t.Errorf("stamped Get() = %q, want v1.2.0", got)
	}
	Stamp("  \n")
	if got := Get(); got != Fallback {
		t.Errorf("blank VERSION: Get() = %q, want %q", got, Fallback)
	}
}
