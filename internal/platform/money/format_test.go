package money

import "testing"

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{0, "USD", "$0.00"},
		{5, "USD", "$0.05"},
		{123450, "USD", "$1,234.50"},
		{-2500, "EUR", "-€25.00"},
		{100000000, "GBP", "£1,000,000.00"},
		{1500, "JPY", "¥1,500"},
		{12345, "KWD", "KWD 12.345"},
		{999, "SEK", "SEK 9.99"},
		{-50, "USD", "-$0.50"},
		{-9223372036854775808, "USD", "-$92,233,720,368,547,758.08"},
		{700, "usd", "$7.00"},
	}
	for _, tc := range tests {
		if got := Format(tc.amount, tc.currency); got != tc.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}
