package shipping_test

import (
	"context"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

// env is one shipping service, priced in USD, on a real loopback server
// behind the production interceptor chain.
type env struct {
	svc    *shipping.Service
	client shippingv1connect.ShippingServiceClient // anonymous, as shoppers call it
}

func newEnv(t *testing.T, rates *shipping.RateTable) *env {
	t.Helper()
	log := logx.Discard()
	svc, err := shipping.New(shipping.Deps{Rates: rates, Currency: "USD", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := serve.HandlerOptions(log, authz.NewStaticTokens(nil))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	url := servetest.Start(t, mux)
	return &env{svc: svc, client: shippingv1connect.NewShippingServiceClient(http.DefaultClient, url)}
}

func usd(amount int64) *typev1.Money { return &typev1.Money{Amount: amount, Currency: "USD"} }

func to(country string) *typev1.Destination { return &typev1.Destination{Country: country} }

func standard(price int64, minDays, maxDays int32, name string) *shippingv1.ShippingRate {
	return &shippingv1.ShippingRate{Id: "local:standard", Carrier: "local", ServiceName: name,
		Price: usd(price), MinDays: minDays, MaxDays: maxDays}
}

func express(price int64, minDays, maxDays int32, name string) *shippingv1.ShippingRate {
	return &shippingv1.ShippingRate{Id: "local:express", Carrier: "local", ServiceName: name,
		Price: usd(price), MinDays: minDays, MaxDays: maxDays}
}

// The default table's rates to each zone, at a given price.
func stdDomestic(price int64) *shippingv1.ShippingRate {
	return standard(price, 3, 5, "Standard (3–5 business days)")
}
func stdRegion(price int64) *shippingv1.ShippingRate {
	return standard(price, 5, 8, "Standard (5–8 business days)")
}
func stdIntl(price int64) *shippingv1.ShippingRate {
	return standard(price, 7, 14, "Standard (7–14 business days)")
}
func expDomestic(price int64) *shippingv1.ShippingRate {
	return express(price, 1, 2, "Express (1–2 business days)")
}
func expRegion(price int64) *shippingv1.ShippingRate {
	return express(price, 2, 4, "Express (2–4 business days)")
}

func TestQuoteRatesWithTheDefaultTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, shipping.DefaultRateTable())
	tests := []struct {
		name     string
		country  string
		grams    int64
		subtotal int64
		want     []*shippingv1.ShippingRate
	}{
		{"domestic", "US", 300, 1000, []*shippingv1.ShippingRate{stdDomestic(599), expDomestic(1499)}},
		{"region", "CA", 300, 1000, []*shippingv1.ShippingRate{stdRegion(1299), expRegion(2499)}},
		{"other region member", "MX", 300, 1000, []*shippingv1.ShippingRate{stdRegion(1299), expRegion(2499)}},
		{"international has no express", "DE", 300, 1000, []*shippingv1.ShippingRate{stdIntl(1999)}},
		{"one gram", "US", 1, 1000, []*shippingv1.ShippingRate{stdDomestic(599), expDomestic(1499)}},
		{"exactly at a bracket's max", "US", 500, 1000, []*shippingv1.ShippingRate{stdDomestic(599), expDomestic(1499)}},
		{"one gram over a bracket", "US", 501, 1000, []*shippingv1.ShippingRate{stdDomestic(799), expDomestic(1799)}},
		{"exactly at the last bracket's max", "US", 5000, 1000, []*shippingv1.ShippingRate{stdDomestic(1499), expDomestic(2999)}},
		{"one gram over the last bracket starts a kg", "US", 5001, 1000, []*shippingv1.ShippingRate{stdDomestic(1499 + 150), expDomestic(2999 + 300)}},
		{"a whole extra kg", "US", 6000, 1000, []*shippingv1.ShippingRate{stdDomestic(1499 + 150), expDomestic(2999 + 300)}},
		{"a gram into the second extra kg", "US", 6001, 1000, []*shippingv1.ShippingRate{stdDomestic(1499 + 2*150), expDomestic(2999 + 2*300)}},
		{"extra kgs in the region", "CA", 7500, 1000, []*shippingv1.ShippingRate{stdRegion(2999 + 3*300), expRegion(4999 + 3*600)}},
		{"extra kgs abroad", "JP", 7500, 1000, []*shippingv1.ShippingRate{stdIntl(4499 + 3*600)}},
		{"heaviest parcel", "JP", 1_000_000, 1000, []*shippingv1.ShippingRate{stdIntl(4499 + 995*600)}},
		{"free at the threshold, domestic", "US", 300, 5000, []*shippingv1.ShippingRate{stdDomestic(0), expDomestic(1499)}},
		{"free above the threshold, heavy parcel", "US", 9000, 100000, []*shippingv1.ShippingRate{stdDomestic(0), expDomestic(2999 + 4*300)}},
		{"not free a cent below the threshold", "US", 300, 4999, []*shippingv1.ShippingRate{stdDomestic(599), expDomestic(1499)}},
		{"not free in the region", "CA", 300, 100000, []*shippingv1.ShippingRate{stdRegion(1299), expRegion(2499)}},
		{"not free abroad", "FR", 300, 100000, []*shippingv1.ShippingRate{stdIntl(1999)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := e.client.QuoteRates(context.Background(), &shippingv1.QuoteRatesRequest{
				Destination: to(tt.country), WeightGrams: tt.grams, Subtotal: usd(tt.subtotal)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.GetRates(), protocmp.Transform()); diff != "" {
				t.Errorf("rates to %s for %d g (-want +got):\n%s", tt.country, tt.grams, diff)
			}
		})
	}
}

// writeTable writes a rate table to a temporary file and loads it.
func writeTable(t *testing.T, json string) *shipping.RateTable {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rates.json")
	if err := os.WriteFile(path, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	rates, err := shipping.LoadRateTable(path)
	if err != nil {
		t.Fatal(err)
	}
	return rates
}

// A table with two equally priced services, one capped at 1 kg (no
// per_extra_kg), and nothing for international parcels.
const tiedTable = `{
  "carrier": "courier",
  "origin": "DE",
  "regions": {"dach": ["DE", "AT", "CH"]},
  "services": [
    {"id": "parcel", "name": "Parcel", "days": {"domestic": [2, 2]},
     "brackets": [{"max_grams": 1000, "price": {"domestic": 500}}],
     "per_extra_kg": {"domestic": 100}},
    {"id": "letter", "name": "Letter", "days": {"domestic": [1, 1], "region": [3, 4]},
     "brackets": [{"max_grams": 1000, "price": {"domestic": 500, "region": 900}}]}
  ]
}`

func TestQuoteRatesWithAnotherTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, writeTable(t, tiedTable))
	letter := &shippingv1.ShippingRate{Id: "courier:letter", Carrier: "courier", ServiceName: "Letter (1 business day)",
		Price: usd(500), MinDays: 1, MaxDays: 1}
	parcel := &shippingv1.ShippingRate{Id: "courier:parcel", Carrier: "courier", ServiceName: "Parcel (2 business days)",
		Price: usd(500), MinDays: 2, MaxDays: 2}
	tests := []struct {
		name    string
		country string
		grams   int64
		want    []*shippingv1.ShippingRate
	}{
		{"equal prices are ordered by id", "DE", 1000, []*shippingv1.ShippingRate{letter, parcel}},
		{"a service without per_extra_kg stops at its last bracket", "DE", 1001, []*shippingv1.ShippingRate{
			{Id: "courier:parcel", Carrier: "courier", ServiceName: "Parcel (2 business days)", Price: usd(600), MinDays: 2, MaxDays: 2}}},
		{"region from a table's own groups", "CH", 200, []*shippingv1.ShippingRate{
			{Id: "courier:letter", Carrier: "courier", ServiceName: "Letter (3–4 business days)", Price: usd(900), MinDays: 3, MaxDays: 4}}},
		{"nothing ships there", "US", 200, nil},
		{"nothing ships that heavy there", "AT", 1001, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := e.client.QuoteRates(context.Background(), &shippingv1.QuoteRatesRequest{
				Destination: to(tt.country), WeightGrams: tt.grams, Subtotal: usd(100)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.GetRates(), protocmp.Transform()); diff != "" {
				t.Errorf("rates to %s for %d g (-want +got):\n%s", tt.country, tt.grams, diff)
			}
		})
	}
}

func TestRateIDsAreStableAndTheHelperAgrees(t *testing.T) {
	t.Parallel()
	e := newEnv(t, shipping.DefaultRateTable())
	ctx := context.Background()
	req := &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: 1200, Subtotal: usd(2500)}
	first, err := e.client.QuoteRates(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range first.GetRates() {
		ids = append(ids, r.GetId())
	}
	if diff := cmp.Diff([]string{"local:standard", "local:express"}, ids); diff != "" {
		t.Fatalf("rate ids (-want +got):\n%s", diff)
	}
	for range 3 {
		again, err := e.client.QuoteRates(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
			t.Errorf("a second quote differs (-first +again):\n%s", diff)
		}
	}
	direct, err := e.svc.Quote(ctx, req.GetDestination(), req.GetWeightGrams(), req.GetSubtotal())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first.GetRates(), direct, protocmp.Transform()); diff != "" {
		t.Errorf("Quote differs from QuoteRates (-rpc +helper):\n%s", diff)
	}
}

func TestBadRequestsGetInvalidArgument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, shipping.DefaultRateTable())
	tests := []struct {
		name      string
		req       *shippingv1.QuoteRatesRequest
		wantField string // a field violation on this path, "" for none
		wantMsg   string
	}{
		{"subtotal in another currency", &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: 100,
			Subtotal: &typev1.Money{Amount: 1000, Currency: "EUR"}}, "", `subtotal.currency: "EUR" is not the shop currency "USD"`},
		{"no destination", &shippingv1.QuoteRatesRequest{WeightGrams: 100, Subtotal: usd(1000)}, "destination", ""},
		{"lower-case country", &shippingv1.QuoteRatesRequest{Destination: to("us"), WeightGrams: 100, Subtotal: usd(1000)}, "destination.country", ""},
		{"empty country", &shippingv1.QuoteRatesRequest{Destination: to(""), WeightGrams: 100, Subtotal: usd(1000)}, "destination.country", ""},
		{"no weight", &shippingv1.QuoteRatesRequest{Destination: to("US"), Subtotal: usd(1000)}, "weight_grams", ""},
		{"negative weight", &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: -5, Subtotal: usd(1000)}, "weight_grams", ""},
		{"over a tonne", &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: 1_000_001, Subtotal: usd(1000)}, "weight_grams", ""},
		{"no subtotal", &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: 100}, "subtotal", ""},
		{"negative subtotal", &shippingv1.QuoteRatesRequest{Destination: to("US"), WeightGrams: 100, Subtotal: usd(-1)}, "subtotal.amount", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.client.QuoteRates(context.Background(), tt.req)
			if code := connect.CodeOf(err); code != connect.CodeInvalidArgument {
				t.Fatalf("code = %v (%v), want invalid_argument", code, err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not say %q", err.Error(), tt.wantMsg)
			}
			if tt.wantField != "" {
				if fields := violationFields(err); !slices.Contains(fields, tt.wantField) {
					t.Errorf("violations on %v, want one on %q", fields, tt.wantField)
				}
			}
			// In process, the same refusal, naming the same field.
			_, err = e.svc.Quote(context.Background(), tt.req.GetDestination(), tt.req.GetWeightGrams(), tt.req.GetSubtotal())
			want := tt.wantMsg
			if want == "" {
				want = tt.wantField + ":"
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), want) {
				t.Errorf("Quote: %v; want an errs.Invalid saying %q", err, want)
			}
		})
	}
}

func TestNewChecksDeps(t *testing.T) {
	t.Parallel()
	rates, log := shipping.DefaultRateTable(), logx.Discard()
	tests := []struct {
		name string
		deps shipping.Deps
		want string
	}{
		{"no rates", shipping.Deps{Currency: "USD", Log: log}, "Rates is required"},
		{"no currency", shipping.Deps{Rates: rates, Log: log}, `currency ""`},
		{"lower-case currency", shipping.Deps{Rates: rates, Currency: "usd", Log: log}, `currency "usd"`},
		{"no log", shipping.Deps{Rates: rates, Currency: "USD"}, "Log is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, err := shipping.New(tt.deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, %v; want an error saying %q", svc, err, tt.want)
			}
		})
	}
}

func TestEveryRPCDeclaresAnAccessRule(t *testing.T) {
	t.Parallel()
	file := shippingv1.File_emporium_shipping_v1_shipping_proto
	if missing := authz.AuditRules(file.Services().Get(0)); len(missing) > 0 {
		t.Fatalf("RPCs without an access rule: %v", missing)
	}
}

// With several carriers, one that fails leaves the others' rates; when
// every carrier fails, the checkout hears why.
func TestQuoteRatesWhenACarrierFails(t *testing.T) {
	t.Parallel()
	fake := upstest.Start(t, upstest.Options{})
	shop := &typev1.PostalAddress{Name: "Shop", Line1: "1 Dock Rd", City: "Oakland", Region: "CA", PostalCode: "94607", Country: "US", Phone: "+15105550100"}
	upsCarrier, err := ups.New(ups.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
		Shipper: shop, Currency: "USD", BaseURL: fake.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	local, err := shipping.NewLocalCarrier(shipping.LocalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	quote := func(carriers ...shipping.LabelCarrier) ([]*shippingv1.ShippingRate, error) {
		svc, err := shipping.New(shipping.Deps{Carriers: carriers, Currency: "USD", Log: logx.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Quote(context.Background(), &typev1.Destination{Country: "US", Region: "NY", PostalCode: "10001"}, 800, usd(1000))
	}

	both, err := quote(local, upsCarrier)
	if err != nil {
		t.Fatal(err)
	}
	carriers := map[string]bool{}
	for _, r := range both {
		carriers[r.GetCarrier()] = true
	}
	if !carriers["local"] || !carriers["ups"] {
		t.Fatalf("rates from %v, want local and ups: %v", carriers, both)
	}

	fake.FailNext(100, http.StatusServiceUnavailable)
	rest, err := quote(local, upsCarrier)
	if err != nil {
		t.Fatalf("UPS down: %v, want the local carrier's rates", err)
	}
	if len(rest) == 0 || slices.ContainsFunc(rest, func(r *shippingv1.ShippingRate) bool { return r.GetCarrier() != "local" }) {
		t.Errorf("UPS down: %v, want only the local carrier's rates", rest)
	}
	if _, err := quote(upsCarrier); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "ups") {
		t.Errorf("the only carrier down: %v, want unavailable naming ups", err)
	}
}

var violationFields = testkit.ViolationFields
