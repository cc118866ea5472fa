// A module whose Publish function lacks +cache="never". modcheck must
// reject it; Preview has no side effects and needs no pragma.
package main

import (
	"context"

	"dagger/nocache/internal/dagger"
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

// Preview only computes.
func (m *Nocache) Preview(ctx context.Context) string { return "x" }
