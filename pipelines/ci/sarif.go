package ci

import (
	"encoding/json"
	"fmt"
	"os"
)

// Finding is one SARIF result with a location.
type Finding struct {
	Rule, Level, Message string
	File                 string
	Line                 int
}

// sarifLog holds the few SARIF 2.1.0 fields annotations need.
type sarifLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Results []struct {
			RuleID  string `json:"ruleId"`
			Level   string `json:"level"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

// ReadSARIF returns the results of a SARIF log that have a file location.
func ReadSARIF(path string) ([]Finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l sarifLog
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: not a SARIF log: %v", path, err)
	}
	if l.Version != "2.1.0" {
		return nil, fmt.Errorf("%s: SARIF version %q, expected 2.1.0", path, l.Version)
	}
	var out []Finding
	for _, r := range l.Runs {
		for _, res := range r.Results {
			if len(res.Locations) == 0 {
				continue
			}
			pl := res.Locations[0].PhysicalLocation
			lvl := res.Level
			if lvl == "" {
				lvl = "warning" // SARIF's default level
			}
			out = append(out, Finding{
				Rule: res.RuleID, Level: lvl, Message: res.Message.Text,
				File: pl.ArtifactLocation.URI, Line: pl.Region.StartLine,
			})
		}
	}
	return out, nil
}
