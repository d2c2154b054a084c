package carrierhttp

import (
	"fmt"
	"strconv"
	"strings"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not the
// hundredth; every other currency has two decimals.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Exponent is how many decimals currency's minor unit has (2 for USD).
func Exponent(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// MinorUnits reads a carrier's decimal amount ("12.34", 12.3 as JSON) as
// minor units of currency, exactly, without floats. Amounts with more
// decimals than the currency has are rounded half up.
func MinorUnits(amount, currency string) (int64, error) {
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
	if strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(whole) > 15 {
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
	if neg {
		v = -v
	}
	return v, nil
}
