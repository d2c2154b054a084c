// Package money is the one home of amounts in minor units: how many
// decimals a currency has, reading a decimal amount exactly, and writing
// an amount for people.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not the
// hundredth; every other currency has two decimals.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// symbols are the currencies written with a symbol; others lead with their
// code ("SEK 12.00").
var symbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "CHF": "CHF ", "INR": "₹",
}

// Exponent is how many decimals currency's minor unit has (2 for USD).
func Exponent(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// maxWhole bounds the whole part Parse reads, far above any price and
// below int64's range in every currency.
const maxWhole = 15

// Parse reads a decimal amount ("12.34", "-3.5", ".5") as minor units of
// currency, exactly, without floats. Amounts with more decimals than the
// currency has are rounded half away from zero.
func Parse(amount, currency string) (int64, error) {
	s := strings.TrimSpace(amount)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("amount %q is empty", amount)
	}
	if whole == "" {
		whole = "0"
	}
	digits := Exponent(currency)
	if strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(whole) > maxWhole {
		return 0, fmt.Errorf("amount %q is not a decimal number", amount)
	}
	roundUp := len(frac) > digits && frac[digits] >= '5'
	if len(frac) > digits {
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", amount, err)
	}
	if roundUp {
		v++
	}
	if len(strconv.FormatInt(v, 10)) > maxWhole+digits { // rounded up past the bound
		return 0, fmt.Errorf("amount %q is too large", amount)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// Decimal writes minor units as a plain decimal number in currency:
// Decimal(-123450, "USD") is "-1234.50", Decimal(1500, "JPY") is "1500".
func Decimal(amount int64, currency string) string {
	sign, whole, frac := split(amount, currency)
	if frac == "" {
		return sign + whole
	}
	return sign + whole + "." + frac
}

// Format writes minor units for people: Format(123450, "USD") is
// "$1,234.50", Format(-2500, "EUR") is "-€25.00", and currencies without a
// symbol here lead with their code ("SEK 12.00").
func Format(amount int64, currency string) string {
	sign, whole, frac := split(amount, currency)
	var b strings.Builder
	b.WriteString(sign)
	cur := strings.ToUpper(currency)
	if sym, ok := symbols[cur]; ok {
		b.WriteString(sym)
	} else {
		b.WriteString(cur + " ")
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// split is amount's sign ("" or "-"), whole part and zero-padded fraction
// in currency; it works for every int64, math.MinInt64 included.
func split(amount int64, currency string) (sign, whole, frac string) {
	u := uint64(amount)
	if amount < 0 {
		sign, u = "-", -u
	}
	digits := Exponent(currency)
	div := uint64(1)
	for range digits {
		div *= 10
	}
	whole = strconv.FormatUint(u/div, 10)
	if digits > 0 {
		frac = fmt.Sprintf("%0*d", digits, u%div)
	}
	return sign, whole, frac
}
