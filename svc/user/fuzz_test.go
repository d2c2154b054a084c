package user

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// FuzzCheckAddress: an address is stored only when every part is text a
// person typed (no control characters or bidirectional overrides, valid
// UTF-8) within its length, the required parts are there and the country
// is a two-letter code; anything else is invalid_argument.
func FuzzCheckAddress(f *testing.F) {
	f.Add("Ada Lovelace", "1 Main St", "", "San Francisco", "94105", "US", "+1 415 555 0100")
	f.Add("   ", "1 Main St", "", "Oakland", "", "US", "")
	f.Add("Ada\u202eecalevoL", "1 Main St", "", "Oakland", "", "US", "")
	f.Add("Zoë", "Straße 1", "c/o\tX", "Zürich", "8001", "CH", "")
	f.Add("A", "B", "", "C", "", "us", "")
	f.Add("A", "B", "", "C", strings.Repeat("9", 21), "GB", "")
	f.Add("\xff", "B", "", "C", "", "GB", "")
	f.Fuzz(func(t *testing.T, name, line1, line2, city, postal, country, phone string) {
		a := &addressRow{Name: name, Line1: line1, Line2: line2, City: city, PostalCode: postal, Country: country, Phone: phone}
		err := checkAddress(a)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("checkAddress refused with %v, want invalid_argument", err)
			}
			return
		}
		for _, p := range []struct {
			v        string
			max      int
			required bool
		}{{name, 200, true}, {line1, 200, true}, {line2, 200, false}, {city, 100, true}, {postal, 20, false}, {phone, 30, false}} {
			if p.required && strings.TrimSpace(p.v) == "" {
				t.Fatalf("accepted a blank required part: %+v", a)
			}
			if !utf8.ValidString(p.v) || utf8.RuneCountInString(p.v) > p.max {
				t.Fatalf("accepted %q (limit %d)", p.v, p.max)
			}
			for _, r := range p.v {
				if unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control) && r != '\u200e' && r != '\u200f' && r != '\u061c' {
					t.Fatalf("accepted %q with %U", p.v, r)
				}
			}
		}
		if len(country) != 2 || strings.ToUpper(country) != country || strings.Trim(country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("accepted country %q", country)
		}
	})
}
