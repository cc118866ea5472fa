package refund

import "testing"

func TestAmountWithoutFee(t *testing.T) {
	if got := Amount(200, 0); got != 200 {
		t.Errorf("Amount(200, 0) = %d, want 200", got)
	}
}

// TestAmountKeepsTheFee fails on purpose: paved must name it.
func TestAmountKeepsTheFee(t *testing.T) {
	if got := Amount(200, 10); got != 180 {
		t.Errorf("Amount(200, 10) = %d, want 180", got)
	}
}
