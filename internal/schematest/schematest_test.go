package schematest

import "testing"

func TestEverySharedSchemaCompiles(t *testing.T) {
	for _, f := range []string{
		"sarif-2.1.0.json",
		"cyclonedx/bom-1.6.schema.json",
		"gitlab-ci.json",
		"gitlab-container-scanning-report-format.json",
		"gitlab-dependency-scanning-report-format.json",
		"github-workflow.json",
		"github-action.json",
	} {
		if _, err := Schema(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestValidateRejectsWrongDocument(t *testing.T) {
	if err := Validate("sarif-2.1.0.json", []byte(`{"version":"2.1.0","runs":[]}`)); err != nil {
		t.Fatalf("minimal SARIF rejected: %v", err)
	}
	if err := Validate("sarif-2.1.0.json", []byte(`{"version":"9","runs":"no"}`)); err == nil {
		t.Fatal("invalid SARIF accepted")
	}
}
