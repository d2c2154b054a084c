package shipping_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// validTable is a small valid rate table that the cases below break.
const validTable = `{
  "carrier": "local",
  "origin": "US",
  "regions": {"north-america": ["US", "CA", "MX"]},
  "services": [
    {
      "id": "standard",
      "name": "Standard",
      "days": {"domestic": [3, 5], "region": [5, 8], "international": [7, 14]},
      "brackets": [
        {"max_grams": 500, "price": {"domestic": 599, "region": 1299, "international": 1999}},
        {"max_grams": 1000, "price": {"domestic": 799, "region": 1599, "international": 2499}}
      ],
      "per_extra_kg": {"domestic": 150, "region": 300, "international": 600},
      "free_over": 5000
    },
    {
      "id": "express",
      "name": "Express",
      "days": {"domestic": [1, 2]},
      "brackets": [{"max_grams": 1000, "price": {"domestic": 1499}}]
    }
  ]
}`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rates.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadRateTableRejectsBadFiles(t *testing.T) {
	t.Parallel()
	type edit struct{ old, new string }
	tests := []struct {
		name  string
		raw   string // the whole file, or
		edits []edit // changes to validTable
		want  []string
	}{
		{name: "empty file", raw: "", want: []string{"the file is empty"}},
		{name: "not JSON", raw: "carrier: local\n", want: []string{"line 1, column 1: invalid character 'c'"}},
		{name: "syntax error", edits: []edit{{`"origin": "US",`, `"origin": "US",,`}},
			want: []string{"line 3, column 18: invalid character ','"}},
		{name: "cut short", raw: validTable[:200], want: []string{"the file ends inside the JSON"}},
		{name: "two tables", raw: validTable + validTable, want: []string{"line 24, column 2: unexpected content after the rate table"}},
		{name: "unknown field", edits: []edit{{`"free_over": 5000`, `"free_above": 5000`}}, want: []string{`line 15, column 7: unknown field "free_above"`}},
		{name: "price with a decimal point", edits: []edit{{`"domestic": 1499}`, `"domestic": 14.99}`}},
			want: []string{"line 21, column", "services.brackets.price: want a whole number, not JSON number 14.99"}},
		{name: "price as a string", edits: []edit{{`"domestic": 1499}`, `"domestic": "1499"}`}},
			want: []string{"want a whole number, not JSON string"}},
		{name: "descending brackets", edits: []edit{{`"max_grams": 1000, "price": {"domestic": 799`, `"max_grams": 400, "price": {"domestic": 799`}},
			want: []string{"services[0] (standard).brackets[1].max_grams: 400 is not above the previous bracket's 500 (list brackets lightest first)"}},
		{name: "equal brackets", edits: []edit{{`"max_grams": 1000, "price": {"domestic": 799`, `"max_grams": 500, "price": {"domestic": 799`}},
			want: []string{"brackets[1].max_grams: 500 is not above the previous bracket's 500"}},
		{name: "zero grams", edits: []edit{{`"max_grams": 500`, `"max_grams": 0`}},
			want: []string{"services[0] (standard).brackets[0].max_grams: 0 must be above 0"}},
		{name: "no brackets", edits: []edit{{`"brackets": [{"max_grams": 1000, "price": {"domestic": 1499}}]`, `"brackets": []`}},
			want: []string{"services[1] (express).brackets: list at least one weight bracket"}},
		{name: "negative price", edits: []edit{{`"region": 1599`, `"region": -1599`}},
			want: []string{"services[0] (standard).brackets[1].price.region: -1599 is negative"}},
		{name: "negative per kg", edits: []edit{{`"domestic": 150`, `"domestic": -150`}},
			want: []string{"services[0] (standard).per_extra_kg.domestic: -150 is negative"}},
		{name: "absurd price", edits: []edit{{`"region": 1599`, `"region": 1599000000000000`}},
			want: []string{"price.region: 1599000000000000 is over the limit"}},
		{name: "zone offered but not priced", edits: []edit{{`"region": 1299, `, ``}},
			want: []string{"services[0] (standard).brackets[0].price: no region price, but the service has days.region"}},
		{name: "zone priced but not offered", edits: []edit{{`"domestic": 1499}`, `"domestic": 1499, "international": 2999}`}},
			want: []string{"services[1] (express).brackets[0].price.international: priced, but the service has no days.international"}},
		{name: "per kg misses a zone", edits: []edit{{`"region": 300, `, ``}},
			want: []string{"services[0] (standard).per_extra_kg: no region price"}},
		{name: "misspelt zone", edits: []edit{{`"days": {"domestic": [1, 2]}`, `"days": {"domestic": [1, 2], "intl": [5, 9]}`}},
			want: []string{`services[1] (express).days: unknown zone "intl" (zones are domestic, region and international)`}},
		{name: "no days", edits: []edit{{`"days": {"domestic": [1, 2]}`, `"days": {}`}},
			want: []string{"services[1] (express).days: give [min, max] business days"}},
		{name: "days not a pair", edits: []edit{{`[3, 5]`, `[3, 5, 7]`}},
			want: []string{"services[0] (standard).days.domestic: want [min, max], not 3 numbers"}},
		{name: "days reversed", edits: []edit{{`[3, 5]`, `[5, 3]`}},
			want: []string{"services[0] (standard).days.domestic: [5, 3] is not a range"}},
		{name: "duplicate ids", edits: []edit{{`"id": "express"`, `"id": "standard"`}},
			want: []string{`services[1].id: "standard" is also the id of services[0] (ids must be unique)`}},
		{name: "id unusable in a rate id", edits: []edit{{`"id": "express"`, `"id": "Express:1"`}},
			want: []string{`services[1].id: "Express:1" must be lower-case letters, digits and dashes`}},
		{name: "no name", edits: []edit{{`"name": "Express"`, `"name": " "`}},
			want: []string{"services[1] (express).name: required"}},
		{name: "free_over zero", edits: []edit{{`"free_over": 5000`, `"free_over": 0`}},
			want: []string{"services[0] (standard).free_over: 0 must be above 0 (leave it out for no free shipping)"}},
		{name: "free_over without domestic", edits: []edit{
			{`"days": {"domestic": [1, 2]}`, `"days": {"region": [1, 2]}`},
			{`"price": {"domestic": 1499}}]`, `"price": {"region": 1499}}], "free_over": 9000`}},
			want: []string{"services[1] (express).free_over: applies to domestic parcels only"}},
		{name: "bad origin", edits: []edit{{`"origin": "US"`, `"origin": "USA"`}},
			want: []string{`origin: "USA" is not an ISO 3166-1 alpha-2 country code`}},
		{name: "bad country in a region", edits: []edit{{`"MX"]`, `"mx"]`}},
			want: []string{`regions.north-america[2]: "mx" is not an ISO 3166-1 alpha-2 country code`}},
		{name: "country twice in a region", edits: []edit{{`"MX"]`, `"MX", "CA"]`}},
			want: []string{"regions.north-america[3]: CA is listed twice"}},
		{name: "bad carrier", edits: []edit{{`"carrier": "local"`, `"carrier": ""`}},
			want: []string{`carrier: "" must be lower-case letters, digits and dashes`}},
		{name: "not an object", raw: "[]", want: []string{"line 1, column 1: want an object, not JSON array"}},
		{name: "no services", raw: `{"carrier": "local", "origin": "US", "services": []}`,
			want: []string{"services: list at least one service"}},
		{name: "every problem at once", edits: []edit{{`"region": 1599`, `"region": -1599`}, {`[3, 5]`, `[5, 3]`}},
			want: []string{"price.region: -1599 is negative", "days.domestic: [5, 3] is not a range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			content := tt.raw
			if tt.edits != nil {
				content = validTable
				for _, e := range tt.edits {
					if n := strings.Count(content, e.old); n != 1 {
						t.Fatalf("the edit %q matches %d times in validTable, want once", e.old, n)
					}
					content = strings.Replace(content, e.old, e.new, 1)
				}
			}
			path := writeFile(t, content)
			rates, err := shipping.LoadRateTable(path)
			if err == nil {
				t.Fatalf("LoadRateTable = %v, want an error", rates)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLoadRateTableMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.json")
	if _, err := shipping.LoadRateTable(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadRateTable of a missing file = %v, want an error naming it", err)
	}
}

func TestLoadRateTableAcceptsTheValidTable(t *testing.T) {
	t.Parallel()
	rates, err := shipping.LoadRateTable(writeFile(t, validTable))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rates.Quote(context.Background(), shipping.Parcel{Destination: &typev1.Destination{Country: "US"}, WeightGrams: 2500, Subtotal: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []shipping.Rate{
		{Service: "standard", Name: "Standard", Price: 799 + 2*150, MinDays: 3, MaxDays: 5},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rates for 2.5 kg in the US (-want +got):\n%s", diff)
	}
}

func TestDefaultRateTableMatchesTheFile(t *testing.T) {
	t.Parallel()
	fromFile, err := shipping.LoadRateTable("rates.json")
	if err != nil {
		t.Fatalf("the shipped rates.json does not load: %v", err)
	}
	def := shipping.DefaultRateTable()
	if def.Name() != "local" || fromFile.Name() != "local" {
		t.Errorf("carrier names = %q and %q, want local", def.Name(), fromFile.Name())
	}
	parcel := shipping.Parcel{Destination: &typev1.Destination{Country: "CA"}, WeightGrams: 1500, Subtotal: 100}
	want, err := fromFile.Quote(context.Background(), parcel)
	if err != nil {
		t.Fatal(err)
	}
	got, err := def.Quote(context.Background(), parcel)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("the default table ships nothing to Canada")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default table vs rates.json (-file +default):\n%s", diff)
	}
}

func TestRateTableQuoteChecksTheParcel(t *testing.T) {
	t.Parallel()
	rates := shipping.DefaultRateTable()
	tests := []struct {
		name   string
		parcel shipping.Parcel
		want   string
	}{
		{"no destination", shipping.Parcel{WeightGrams: 100}, "destination.country"},
		{"weightless", shipping.Parcel{Destination: &typev1.Destination{Country: "US"}}, "weight_grams: 0"},
		{"too heavy", shipping.Parcel{Destination: &typev1.Destination{Country: "US"}, WeightGrams: shipping.MaxWeightGrams + 1}, "weight_grams: 1000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := rates.Quote(context.Background(), tt.parcel)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Quote = %v, %v; want an error saying %q", got, err, tt.want)
			}
		})
	}
}
