package money

import "testing"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount, currency string
		want             int64
		bad              bool
	}{
		{"12.34", "USD", 1234, false},
		{"12.3", "USD", 1230, false},
		{"12", "EUR", 1200, false},
		{"0.005", "USD", 1, false},
		{"0.004", "USD", 0, false},
		{"1500", "JPY", 1500, false},
		{"1.234", "KWD", 1234, false},
		{"-3.50", "USD", -350, false},
		{".5", "USD", 50, false},
		{"1e3", "USD", 0, true},
		{"12,34", "USD", 0, true},
		{"", "USD", 0, true},
		{"9999999999999999", "USD", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.amount, tt.currency)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d (error %v)", tt.amount, tt.currency, got, err, tt.want, tt.bad)
		}
	}
}
