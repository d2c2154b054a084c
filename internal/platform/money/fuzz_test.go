package money

import (
	"strings"
	"testing"
)

var fuzzCurrencies = []string{"USD", "JPY", "KWD", "SEK", "EUR", "usd", ""}

// FuzzParse: any text is either refused or read as an amount that writes
// back, as a decimal, to the same amount.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"12.34", "-3.5", ".5", "0.005", "999999999999999.99", "1e3", "--1", "-", ".", " 7 ", "١٢"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, c uint8) {
		cur := fuzzCurrencies[int(c)%len(fuzzCurrencies)]
		v, err := Parse(s, cur)
		if err != nil {
			return
		}
		again, err := Parse(Decimal(v, cur), cur)
		if err != nil || again != v {
			t.Fatalf("Parse(%q, %q) = %d, written %q, read back %d, %v", s, cur, v, Decimal(v, cur), again, err)
		}
	})
}

// FuzzFormat: every amount is written with its sign, the currency's
// decimals and thousands separators, and its digits are the amount's.
func FuzzFormat(f *testing.F) {
	for _, v := range []int64{0, 5, -50, 123450, -9223372036854775808, 9223372036854775807} {
		f.Add(v, uint8(0))
	}
	f.Fuzz(func(t *testing.T, v int64, c uint8) {
		cur := fuzzCurrencies[int(c)%len(fuzzCurrencies)]
		out := Format(v, cur)
		if (v < 0) != strings.HasPrefix(out, "-") {
			t.Fatalf("Format(%d, %q) = %q: wrong sign", v, cur, out)
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, out)
		plain := strings.NewReplacer("-", "", ".", "").Replace(Decimal(v, cur))
		if digits != plain {
			t.Fatalf("Format(%d, %q) = %q, digits %s, want %s", v, cur, out, digits, plain)
		}
		if _, frac, ok := strings.Cut(out, "."); ok != (Exponent(cur) > 0) || len(frac) != Exponent(cur) {
			t.Fatalf("Format(%d, %q) = %q: want %d decimals", v, cur, out, Exponent(cur))
		}
	})
}
