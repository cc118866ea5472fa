package scan

import (
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// TestQueryRunThresholdMayOnlyBeStricter checks LoadConfig with a source
// that has no policy files (exists answers false); no engine.
func TestQueryRunThresholdMayOnlyBeStricter(t *testing.T) {
	client, _ := daggertest.New(t, daggertest.On("exists", false))
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	cfg, err := LoadConfig(t.Context(), client.Directory(), nil, "", "medium", now)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.Threshold != report.Medium {
		t.Errorf("threshold %s, want MEDIUM", cfg.Policy.Threshold)
	}
	_, err = LoadConfig(t.Context(), client.Directory(), nil, "", "CRITICAL", now)
	if err == nil || !strings.Contains(err.Error(), "severity CRITICAL is looser than the policy's threshold HIGH") {
		t.Errorf("looser run threshold: %v", err)
	}
	_, err = LoadConfig(t.Context(), client.Directory(), nil, "", "urgent", now)
	if err == nil || !strings.Contains(err.Error(), `unknown severity "urgent"`) {
		t.Errorf("unknown severity: %v", err)
	}
}
