// Shop is a fixture module (version 1).
package main

import (
	"context"

	"dagger/shop/internal/dagger"
)

type Shop struct{}

// Order is what Buy returns.
type Order struct {
	ID    string
	Total int
	Note  string
	// +private
	Secret string
	hidden string
}

// Buy orders an item.
func (m *Shop) Buy(
	ctx context.Context,
	// What to buy.
	item string,
	// How many.
	// +optional
	qty int,
	// +default="eur"
	currency string,
	// +optional
	coupon string,
	// +defaultPath="/"
	src *dagger.Directory,
) (*Order, error) {
	return nil, nil
}

// Refund gives money back.
// +cache="never"
func (m *Shop) Refund(ctx context.Context, id string) error { return nil }

// List lists items.
func (m *Shop) List(
	// +optional
	limit int,
	// +optional
	filter string,
) []string {
	return nil
}

func (m *Shop) Ping() string { return "pong" }

func (m *Shop) Legacy() string { return "" }

func (m *Shop) Lookup(id string) string { return id }

func (m *Shop) helper() {}
