package notification

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatMoney(t *testing.T) {
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
	}
	for _, tc := range tests {
		if got := formatMoney(tc.amount, tc.currency); got != tc.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestLocaleChain(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"":           {"en"},
		"en":         {"en"},
		"en-GB":      {"en-gb", "en"},
		"fr-CA":      {"fr-ca", "fr", "en"},
		"zh_Hant_TW": {"zh-hant-tw", "zh-hant", "zh", "en"},
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, localeChain(in)); diff != "" {
			t.Errorf("localeChain(%q) (-want +got):\n%s", in, diff)
		}
	}
}

// Every built-in template parses and renders with its kind's sample data.
func TestBuiltinTemplatesRender(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		src, err := builtin(k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := check(src)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if r.Subject == "" || r.Text == "" || r.HTML == "" || r.SMS == "" {
			t.Errorf("%s renders an empty part: %+v", k, r)
		}
	}
}
