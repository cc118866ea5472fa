// Shop is a fixture module (version 2): one change of every kind.
package main

import (
	"context"

	"dagger/shop/internal/dagger"
)

type Shop struct{}

// Order is what Buy returns.
type Order struct {
	ID       string
	Total    float64
	Currency string
	// +private
	Secret string
}

// Receipt is a new object.
type Receipt struct {
	Lines []string
}

// Buy orders an item.
func (m *Shop) Buy(
	ctx context.Context,
	// What to buy; default: the featured item.
	// +optional
	item string,
	// How many.
	qty int,
	// +default="usd"
	currency string,
	// +optional
	coupon []string,
	// +defaultPath="."
	src *dagger.Directory,
	// Wrap it.
	// +optional
	gift bool,
) (*Order, error) {
	return nil, nil
}

// List lists items.
func (m *Shop) List(
	// +optional
	filter string,
	sort string,
) []string {
	return nil
}

func (m *Shop) Ping() int { return 0 }

// Legacy is kept for old callers.
// +deprecated="use Ping"
func (m *Shop) Legacy() string { return "" }

func (m *Shop) Lookup(
	id string,
	// +optional
	// +deprecated="ids are enough"
	name string,
) string {
	return id
}

// Receipt prints the receipt of an order.
func (m *Shop) Receipt(ctx context.Context, order string) (*Receipt, error) { return nil, nil }
