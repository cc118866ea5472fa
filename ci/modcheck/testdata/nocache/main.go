// A module whose Publish function lacks +cache="never" and whose gates
// are cached too long. modcheck must reject them; Preview has no side
// effects and needs no pragma.
package main

import (
	"context"

	"dagger/nocache/internal/dagger"

	// a file importing paved's gate can gate: the day rule applies to it
	_ "github.com/paved-ci/paved/pipelines/policy"
)

type Nocache struct{}

// Publish pushes the image.
func (m *Nocache) Publish(ctx context.Context, ctr *dagger.Container, address string) (string, error) {
	return ctr.Publish(ctx, address)
}

// Sign signs it.
// +cache="never"
func (m *Nocache) Sign(ctx context.Context, ref string) (string, error) {
	return ref, nil
}

// Check gates on a daily DB with no pragma: rejected.
func (m *Nocache) Check(ctx context.Context) string { return "passed" }

// CheckWeek caches a gate for a week: rejected.
// +cache="168h"
func (m *Nocache) CheckWeek(ctx context.Context) string { return "passed" }

// CheckHour caches a gate for an hour: fine.
// +cache="1h"
func (m *Nocache) CheckHour(ctx context.Context) string { return "passed" }

// Preview only computes.
func (m *Nocache) Preview(ctx context.Context) string { return "x" }
