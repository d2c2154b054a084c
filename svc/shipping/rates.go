package shipping

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// A zone is how far a parcel travels from the shop's origin country.
type zone string

const (
	domestic      zone = "domestic"      // to the origin country
	region        zone = "region"        // to a country in a region group with the origin
	international zone = "international" // anywhere else
)

var zones = []zone{domestic, region, international}

// maxPrice bounds every amount in a rate table (10^12 minor units): it
// catches slips such as extra zeros, and keeps prices far from overflow.
const maxPrice = 1_000_000_000_000

var (
	countryCode = regexp.MustCompile(`^[A-Z]{2}$`)
	slug        = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

//go:embed rates.json
var defaultRates []byte

// RateTable is the local carrier: prices by weight bracket and zone, read
// from a JSON file shaped like the embedded rates.json. Prices are whole
// minor units of the shop currency. A RateTable is checked when it is
// loaded, so it is always valid; it is immutable and safe for concurrent use.
//
// A parcel is priced by the first bracket whose max_grams holds it; above
// the last bracket, per started kilogram over it by per_extra_kg (without
// per_extra_kg the service takes nothing heavier). A service is offered in
// the zones it has days for. With free_over, domestic parcels whose subtotal
// is at least that amount ship free.
type RateTable struct {
	carrier  string
	origin   string
	peers    map[string]bool // countries sharing a region group with origin
	services []rateService
}

var _ Carrier = (*RateTable)(nil)

// tableFile is the JSON shape of a rate table.
type tableFile struct {
	Carrier  string              `json:"carrier"`
	Origin   string              `json:"origin"`  // ISO 3166-1 alpha-2
	Regions  map[string][]string `json:"regions"` // group name → country codes
	Services []rateService       `json:"services"`
}

type rateService struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Days       map[zone][]int32 `json:"days"` // [min, max] business days per zone offered
	Brackets   []bracket        `json:"brackets"`
	PerExtraKg map[zone]int64   `json:"per_extra_kg"`
	FreeOver   *int64           `json:"free_over"`
}

type bracket struct {
	MaxGrams int64          `json:"max_grams"`
	Price    map[zone]int64 `json:"price"`
}

// LoadRateTable reads and checks the rate table at path. Its error names
// every problem found, with where it is in the file.
func LoadRateTable(path string) (*RateTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("shipping: %w", err)
	}
	t, err := parseRateTable(data)
	if err != nil {
		return nil, fmt.Errorf("shipping: rate table %s: %w", path, err)
	}
	return t, nil
}

// DefaultRateTable is the built-in local carrier (rates.json, priced for a
// shop in the US; the amounts read as cents).
func DefaultRateTable() *RateTable {
	t, err := parseRateTable(defaultRates)
	if err != nil {
		panic("shipping: the embedded rates.json is invalid: " + err.Error())
	}
	return t
}

func parseRateTable(data []byte) (*RateTable, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f tableFile
	if err := dec.Decode(&f); err != nil {
		return nil, describeJSONError(data, err)
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
		return nil, fmt.Errorf("%s: unexpected content after the rate table", position(data, int64(len(data)-len(rest))))
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	t := &RateTable{carrier: f.Carrier, origin: f.Origin, peers: map[string]bool{}, services: f.Services}
	for _, countries := range f.Regions {
		if slices.Contains(countries, f.Origin) {
			for _, c := range countries {
				if c != f.Origin {
					t.peers[c] = true
				}
			}
		}
	}
	return t, nil
}

// describeJSONError turns a decoding error into one that says where in the
// file the problem is and what was expected there.
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the file is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the file ends inside the JSON; is a closing bracket missing?")
	case errors.As(err, &syntax):
		return fmt.Errorf("%s: %v", position(data, syntax.Offset-1), syntax)
	case errors.As(err, &typ):
		where := position(data, typ.Offset-1)
		if typ.Field != "" {
			where += ": " + typ.Field
		}
		return fmt.Errorf("%s: want %s, not JSON %s", where, kindName(typ.Type), typ.Value)
	}
	// An unknown field (encoding/json gives no offset for it): point at the
	// name when it appears only once.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if quoted, ok := strings.CutPrefix(msg, "unknown field "); ok && bytes.Count(data, []byte(quoted)) == 1 {
		return fmt.Errorf("%s: %s", position(data, int64(bytes.Index(data, []byte(quoted)))), msg)
	}
	return errors.New(msg)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	default:
		return "an object"
	}
}

// position is where data[i] is, as a text editor shows it.
func position(data []byte, i int64) string {
	before := data[:min(max(i, 0), int64(len(data)))]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// problems collects what is wrong with a rate table, to report it all at once.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "; "))
}

func (f *tableFile) check() error {
	var p problems
	if !slug.MatchString(f.Carrier) {
		p.addf(`carrier: %q must be lower-case letters, digits and dashes, e.g. "local"`, f.Carrier)
	}
	if !countryCode.MatchString(f.Origin) {
		p.addf(`origin: %q is not an ISO 3166-1 alpha-2 country code, e.g. "US"`, f.Origin)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Regions)) {
		if strings.TrimSpace(name) == "" {
			p.addf("regions: a region group has no name")
		}
		seen := map[string]bool{}
		for i, c := range f.Regions[name] {
			switch path := fmt.Sprintf("regions.%s[%d]", name, i); {
			case !countryCode.MatchString(c):
				p.addf(`%s: %q is not an ISO 3166-1 alpha-2 country code, e.g. "CA"`, path, c)
			case seen[c]:
				p.addf("%s: %s is listed twice", path, c)
			}
			seen[c] = true
		}
	}
	if len(f.Services) == 0 {
		p.addf("services: list at least one service")
	}
	first := map[string]int{}
	for i := range f.Services {
		s := &f.Services[i]
		path := fmt.Sprintf("services[%d]", i)
		if j, dup := first[s.ID]; dup && s.ID != "" {
			p.addf("%s.id: %q is also the id of services[%d] (ids must be unique)", path, s.ID, j)
		} else {
			first[s.ID] = i
		}
		s.check(&p, path)
	}
	return p.err()
}

func (s *rateService) check(p *problems, path string) {
	if !slug.MatchString(s.ID) {
		p.addf(`%s.id: %q must be lower-case letters, digits and dashes, e.g. "standard"`, path, s.ID)
	} else {
		path = fmt.Sprintf("%s (%s)", path, s.ID)
	}
	if strings.TrimSpace(s.Name) == "" {
		p.addf("%s.name: required (shoppers see it)", path)
	}
	if len(s.Days) == 0 {
		p.addf("%s.days: give [min, max] business days for each zone the service ships to (domestic, region, international)", path)
	}
	checkZoneNames(p, path+".days", s.Days)
	for _, z := range zones {
		d, ok := s.Days[z]
		switch {
		case !ok:
		case len(d) != 2:
			p.addf("%s.days.%s: want [min, max], not %d numbers", path, z, len(d))
		case d[0] < 0 || d[0] > d[1]:
			p.addf("%s.days.%s: [%d, %d] is not a range (want 0 <= min <= max)", path, z, d[0], d[1])
		}
	}
	if len(s.Brackets) == 0 {
		p.addf("%s.brackets: list at least one weight bracket", path)
	}
	for i, b := range s.Brackets {
		bp := fmt.Sprintf("%s.brackets[%d]", path, i)
		switch {
		case b.MaxGrams <= 0:
			p.addf("%s.max_grams: %d must be above 0", bp, b.MaxGrams)
		case i > 0 && b.MaxGrams <= s.Brackets[i-1].MaxGrams:
			p.addf("%s.max_grams: %d is not above the previous bracket's %d (list brackets lightest first)",
				bp, b.MaxGrams, s.Brackets[i-1].MaxGrams)
		}
		s.checkPrices(p, bp+".price", b.Price)
	}
	if s.PerExtraKg != nil {
		s.checkPrices(p, path+".per_extra_kg", s.PerExtraKg)
	}
	if s.FreeOver != nil {
		_, domesticOffered := s.Days[domestic]
		switch {
		case *s.FreeOver <= 0:
			p.addf("%s.free_over: %d must be above 0 (leave it out for no free shipping)", path, *s.FreeOver)
		case *s.FreeOver > maxPrice:
			p.addf("%s.free_over: %d is over the limit of %d minor units", path, *s.FreeOver, maxPrice)
		case !domesticOffered:
			p.addf("%s.free_over: applies to domestic parcels only, but the service has no days.domestic", path)
		}
	}
}

// checkPrices checks that prices has a sound amount for exactly the zones
// the service has days for.
func (s *rateService) checkPrices(p *problems, path string, prices map[zone]int64) {
	checkZoneNames(p, path, prices)
	for _, z := range zones {
		_, offered := s.Days[z]
		price, priced := prices[z]
		switch {
		case offered && !priced:
			p.addf("%s: no %s price, but the service has days.%s", path, z, z)
		case !offered && priced:
			p.addf("%s.%s: priced, but the service has no days.%s (add the days or remove the price)", path, z, z)
		case price < 0:
			p.addf("%s.%s: %d is negative", path, z, price)
		case price > maxPrice:
			p.addf("%s.%s: %d is over the limit of %d minor units", path, z, price, maxPrice)
		}
	}
}

func checkZoneNames[V any](p *problems, path string, m map[zone]V) {
	for _, z := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(zones, z) {
			p.addf("%s: unknown zone %q (zones are domestic, region and international)", path, z)
		}
	}
}

// Name implements Carrier.
func (t *RateTable) Name() string { return t.carrier }

// Quote implements Carrier: one rate for each service that ships to the
// destination's zone and takes the parcel's weight.
func (t *RateTable) Quote(_ context.Context, p Parcel) ([]Rate, error) {
	country := p.Destination.GetCountry()
	switch {
	case !countryCode.MatchString(country):
		return nil, errs.Invalidf("destination.country: %q is not an ISO 3166-1 alpha-2 country code", country)
	case p.WeightGrams <= 0 || p.WeightGrams > MaxWeightGrams:
		return nil, errs.Invalidf("weight_grams: %d is not between 1 and %d", p.WeightGrams, MaxWeightGrams)
	}
	z := t.zoneOf(country)
	var rates []Rate
	for _, s := range t.services {
		price, ok := s.price(z, p.WeightGrams)
		if !ok {
			continue
		}
		if z == domestic && s.FreeOver != nil && p.Subtotal >= *s.FreeOver {
			price = 0
		}
		days := s.Days[z]
		rates = append(rates, Rate{Service: s.ID, Name: s.Name, Price: price, MinDays: days[0], MaxDays: days[1]})
	}
	return rates, nil
}

func (t *RateTable) zoneOf(country string) zone {
	switch {
	case country == t.origin:
		return domestic
	case t.peers[country]:
		return region
	}
	return international
}

// price is what the service charges in zone z for a parcel of grams, and
// false when it does not carry it.
func (s *rateService) price(z zone, grams int64) (int64, bool) {
	if _, ok := s.Days[z]; !ok {
		return 0, false
	}
	for _, b := range s.Brackets {
		if grams <= b.MaxGrams {
			return b.Price[z], true
		}
	}
	perKg, ok := s.PerExtraKg[z]
	if !ok {
		return 0, false
	}
	last := s.Brackets[len(s.Brackets)-1]
	startedKg := (grams - last.MaxGrams + 999) / 1000
	return last.Price[z] + startedKg*perKg, true
}
