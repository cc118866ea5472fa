// Package refund has one deliberate bug, so that a test fails.
package refund

// Amount is what is refunded for a price and the share kept as a fee (in
// percent). The bug: the fee is added instead of subtracted.
func Amount(price, feePercent int) int {
	return price + price*feePercent/100
}
