package order

import (
	"testing"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
)

func TestStateMachineAllowsExactlyTheDocumentedMoves(t *testing.T) {
	t.Parallel()
	allowed := map[[2]status]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			allowed[[2]status{from, to}] = true
		}
	}
	tests := []struct {
		from, to status
		want     bool
	}{
		{pendingPayment, paid, true},
		{pendingPayment, canceled, true},
		{pendingPayment, shipped, false},
		{pendingPayment, refunded, false},
		{paid, fulfilling, true},
		{paid, shipped, false},
		{paid, canceled, true},
		{fulfilling, shipped, true},
		{fulfilling, canceled, true},
		{shipped, delivered, true},
		{shipped, canceled, false},
		{delivered, refunded, true},
		{delivered, shipped, false},
		{partiallyRefunded, refunded, true},
		{partiallyRefunded, partiallyRefunded, true},
		{partiallyRefunded, canceled, false},
		{canceled, paid, false},
		{refunded, partiallyRefunded, false},
	}
	for _, tt := range tests {
		if got := canMove(tt.from, tt.to); got != tt.want {
			t.Errorf("canMove(%s, %s) = %v, want %v", statusName(tt.from), statusName(tt.to), got, tt.want)
		}
		if got := checkMove(tt.from, tt.to) == nil; got != tt.want {
			t.Errorf("checkMove(%s, %s) ok = %v, want %v", statusName(tt.from), statusName(tt.to), got, tt.want)
		}
	}
	for _, final := range []status{canceled, refunded} {
		if len(transitions[final]) != 0 {
			t.Errorf("%s is final but may move to %v", statusName(final), transitions[final])
		}
	}
	for v := range orderv1.OrderStatus_name {
		s := status(v)
		if s == orderv1.OrderStatus_ORDER_STATUS_UNSPECIFIED {
			continue
		}
		if _, ok := transitions[s]; !ok && s != canceled && s != refunded {
			t.Errorf("%s has no moves: a dead end the state machine does not mean", statusName(s))
		}
	}
	if got := statusName(partiallyRefunded); got != "partially refunded" {
		t.Errorf("statusName = %q", got)
	}
}

func TestTaxRules(t *testing.T) {
	t.Parallel()
	rules, err := ParseTaxRules(" us-ca=7.25, US=5 ,DE=19,GB=20.5,US-NY=8.875")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		country, region string
		want            int64
	}{{"US", "CA", 7250}, {"US", "NY", 8875}, {"US", "TX", 5000}, {"US", "", 5000}, {"DE", "BY", 19000}, {"GB", "", 20500}, {"FR", "", 0}} {
		if got := rules.Rate(tt.country, tt.region); got != tt.want {
			t.Errorf("Rate(%s, %s) = %d, want %d", tt.country, tt.region, got, tt.want)
		}
	}
	if got := rules.String(); got != "DE=19,GB=20.5,US=5,US-CA=7.25,US-NY=8.875" {
		t.Errorf("String() = %q", got)
	}
	for _, bad := range []string{"US", "US=abc", "US=7.2555", "USA=5", "US=+5", "US=5.", "US=101", "US=5,US=6", "1X=5", "US=-1"} {
		if _, err := ParseTaxRules(bad); err == nil {
			t.Errorf("ParseTaxRules(%q) succeeded, want an error", bad)
		}
	}
	for _, tt := range []struct{ amount, rate, want int64 }{{7000, 7250, 508}, {5998, 7250, 435}, {100, 7250, 7}, {0, 19000, 0}, {1, 50000, 1}, {10000, 8875, 888}} {
		if got := taxOf(tt.amount, tt.rate); got != tt.want {
			t.Errorf("taxOf(%d, %d) = %d, want %d", tt.amount, tt.rate, got, tt.want)
		}
	}
}
