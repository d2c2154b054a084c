package order

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// TaxRules are sales-tax rates per country or region, in thousandths of a
// percent (7.25 % = 7250; New York's 8.875 % = 8875). A region rule ("US-CA") wins over its country's ("US");
// a destination with neither pays no tax. Tax applies to the goods after
// discounts; shipping is not taxed.
type TaxRules map[string]int64

// ParseTaxRules reads rules written as "US-CA=7.25,US-NY=8.875,DE=19,GB=20":
// a country code, optionally a dash and region code, and a percentage with
// at most three decimals.
func ParseTaxRules(s string) (TaxRules, error) {
	rules := TaxRules{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		place, pct, ok := strings.Cut(part, "=")
		place = strings.ToUpper(strings.TrimSpace(place))
		rate, err := milliPercent(strings.TrimSpace(pct))
		country, _, _ := strings.Cut(place, "-")
		if !ok || err != nil || len(country) != 2 || !isUpperAlpha(country) {
			return nil, fmt.Errorf("tax rule %q: want COUNTRY[-REGION]=percent, e.g. US-CA=7.25 or DE=19", part)
		}
		if _, dup := rules[place]; dup {
			return nil, fmt.Errorf("tax rule %q: %s is given twice", part, place)
		}
		rules[place] = rate
	}
	return rules, nil
}

// milliPercent parses a percentage such as "8.875" into 8875.
func milliPercent(pct string) (int64, error) {
	whole, frac, dot := strings.Cut(pct, ".")
	if len(frac) > 3 || whole == "" || (dot && frac == "") {
		return 0, fmt.Errorf("bad percentage %q", pct)
	}
	frac += strings.Repeat("0", 3-len(frac))
	w, err1 := strconv.ParseUint(whole, 10, 8)
	f, err2 := strconv.ParseUint(frac, 10, 16)
	if err1 != nil || err2 != nil || w > 100 || (w == 100 && f > 0) {
		return 0, fmt.Errorf("bad percentage %q", pct)
	}
	return int64(w)*1000 + int64(f), nil
}

func isUpperAlpha(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Rate is the rate for a destination, in thousandths of a percent.
func (t TaxRules) Rate(country, region string) int64 {
	if region != "" {
		if bp, ok := t[strings.ToUpper(country+"-"+region)]; ok {
			return bp
		}
	}
	return t[strings.ToUpper(country)]
}

// String writes the rules back in ParseTaxRules's form, sorted.
func (t TaxRules) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		mp := t[k]
		pct := strconv.FormatInt(mp/1000, 10)
		if mp%1000 != 0 {
			pct += strings.TrimRight(fmt.Sprintf(".%03d", mp%1000), "0")
		}
		parts[i] = k + "=" + pct
	}
	return strings.Join(parts, ",")
}

// taxOf is amount × rate (in thousandths of a percent), rounded half up
// (amounts are never negative).
func taxOf(amount, milliPercent int64) int64 { return (amount*milliPercent + 50_000) / 100_000 }
