package ups_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf/pdftest"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

var (
	shop = &typev1.PostalAddress{Name: "Emporium", Line1: "1 Market St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US", Phone: "4155550100"}
	ada  = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "500 Fifth Ave", City: "New York", Region: "NY", PostalCode: "10110", Country: "US"}
)

func newUPS(t *testing.T) (*ups.Carrier, *upstest.Server, *clocktest.Clock) {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC))
	fake := upstest.Start(t, upstest.Options{Now: clock.Now})
	c, err := ups.New(ups.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
		Shipper: shop, Currency: "USD", BaseURL: fake.URL, Now: clock.Now, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake, clock
}

func TestQuote(t *testing.T) {
	t.Parallel()
	c, _, _ := newUPS(t)
	ctx := context.Background()
	rates, err := c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US", Region: "NY", PostalCode: "10110"}, WeightGrams: 2000})
	if err != nil {
		t.Fatal(err)
	}
	// 2000 g is 4.41 lb, billed as 5 lb by the fake: base + 5 × per lb.
	want := []shipping.Rate{
		{Service: "ground", Name: "UPS Ground", Price: 1350, MinDays: 1, MaxDays: 5},
		{Service: "3-day-select", Name: "UPS 3 Day Select", Price: 2010, MinDays: 3, MaxDays: 3},
		{Service: "2nd-day-air", Name: "UPS 2nd Day Air", Price: 3225, MinDays: 2, MaxDays: 2},
		{Service: "next-day-air", Name: "UPS Next Day Air", Price: 5490, MinDays: 1, MaxDays: 1},
	}
	if diff := cmp.Diff(want, rates); diff != "" {
		t.Errorf("rates (-want +got):\n%s", diff)
	}
	rates, err = c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "AQ"}, WeightGrams: 2000})
	if err != nil || len(rates) != 0 {
		t.Errorf("where UPS does not go: %v, %v; want no rates", rates, err)
	}
	_, err = c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US", PostalCode: "1011"}, WeightGrams: 2000})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "Address Validation Error on ShipTo address [111285]") {
		t.Errorf("bad ZIP: %v, want Invalid with UPS's message", err)
	}
}

func TestCreateLabelTrackVoid(t *testing.T) {
	t.Parallel()
	c, fake, clock := newUPS(t)
	ctx := context.Background()
	req := shipping.LabelRequest{Reference: "sh_42", Service: "ground", From: shop, To: ada, WeightGrams: 2000,
		LengthMM: 300, WidthMM: 200, HeightMM: 100, Currency: "USD", DeclaredValue: 5000}
	l, err := c.CreateLabel(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.TrackingNumber, "1ZA1B2C303") || l.CarrierShipmentID != l.TrackingNumber || l.Cost != 1350 || l.Currency != "USD" {
		t.Errorf("label %+v", l)
	}
	if got := pdftest.PageSize(t, l.PDF); got != "288 x 432" {
		t.Errorf("label page %s pts, want 4x6 in", got)
	}
	pdftest.Text(t, l.PDF) // a reader opens it without complaint

	tr, err := c.Track(ctx, l.TrackingNumber)
	if err != nil || tr.Status != shipping.TrackingLabelCreated {
		t.Fatalf("Track = %+v, %v", tr, err)
	}
	clock.Advance(time.Hour)
	fake.Scan(l.TrackingNumber, "pickup")
	clock.Advance(20 * time.Hour)
	fake.Scan(l.TrackingNumber, "out-for-delivery")
	clock.Advance(3 * time.Hour)
	fake.Scan(l.TrackingNumber, "delivered")
	tr, err = c.Track(ctx, l.TrackingNumber)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		At     time.Duration
		Status shipping.TrackingStatus
		Where  string
	}
	var got []ev
	for _, e := range tr.Events {
		got = append(got, ev{e.Time.Sub(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)), e.Status, e.Location})
	}
	want := []ev{
		{0, shipping.TrackingLabelCreated, "US"},
		{time.Hour, shipping.TrackingInTransit, "Louisville, KY, US"},
		{21 * time.Hour, shipping.TrackingOutForDelivery, "Louisville, KY, US"},
		{24 * time.Hour, shipping.TrackingDelivered, "Louisville, KY, US"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events, oldest first (-want +got):\n%s", diff)
	}
	if tr.Status != shipping.TrackingDelivered || tr.EstimatedDelivery.IsZero() {
		t.Errorf("status %v, estimate %v", tr.Status, tr.EstimatedDelivery)
	}
	if err := c.Void(ctx, l); !errs.Is(err, errs.FailedPrecondition) || !strings.Contains(err.Error(), "picked up") {
		t.Errorf("Void after pickup = %v, want FailedPrecondition with UPS's reason", err)
	}
	if _, err := c.Track(ctx, "1Z0000000000000000"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Track of an unknown number = %v, want NotFound", err)
	}
}

func TestCreateLabelIsNotResentAfter5xx(t *testing.T) {
	t.Parallel()
	c, fake, _ := newUPS(t)
	fake.FailNext(1, 500)
	_, err := c.CreateLabel(context.Background(), shipping.LabelRequest{Reference: "sh_1", Service: "ground", From: shop, To: ada, WeightGrams: 500, Currency: "USD"})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "may or may not have taken effect at ups") {
		t.Errorf("err = %v", err)
	}
	if n := fake.Calls("POST /api/shipments"); n != 1 {
		t.Errorf("%d ship requests, want 1: a second could buy a second label", n)
	}
}

func TestCreateLabelRefusesUnknownService(t *testing.T) {
	t.Parallel()
	c, fake, _ := newUPS(t)
	_, err := c.CreateLabel(context.Background(), shipping.LabelRequest{Reference: "sh_1", Service: "teleport", From: shop, To: ada, WeightGrams: 500})
	if !errs.Is(err, errs.Invalid) || fake.Calls("POST") != 0 {
		t.Errorf("err = %v after %d calls", err, fake.Calls("POST"))
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	_, err := ups.New(ups.Config{ClientID: "id"})
	if err == nil || !strings.Contains(err.Error(), "account number, client secret, currency, shipper address") {
		t.Errorf("err = %v", err)
	}
}

func TestOneOrMany(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want ups.OneOrMany[ups.Code]
	}{
		{`{"Code":"03"}`, ups.OneOrMany[ups.Code]{{Code: "03"}}},
		{`[{"Code":"03"},{"Code":"02"}]`, ups.OneOrMany[ups.Code]{{Code: "03"}, {Code: "02"}}},
		{`null`, nil},
	} {
		var got ups.OneOrMany[ups.Code]
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: %s", tt.in, diff)
		}
	}
}

func TestShortLivedTokensRenewedBeforeExpiry(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC))
	fake := upstest.Start(t, upstest.Options{Now: clock.Now, TokenLifetime: 10 * time.Minute})
	c, err := ups.New(ups.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
		Shipper: shop, Currency: "USD", BaseURL: fake.URL, Now: clock.Now, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := shipping.Parcel{Destination: &typev1.Destination{Country: "US", PostalCode: "10110"}, WeightGrams: 500}
	for _, step := range []struct {
		advance    time.Duration
		wantTokens int
	}{{0, 1}, {5 * time.Minute, 1}, {4*time.Minute + 30*time.Second, 2}, {time.Minute, 2}} {
		clock.Advance(step.advance)
		if _, err := c.Quote(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got := fake.TokenFetches(); got != step.wantTokens {
			t.Errorf("after %v: %d tokens, want %d", step.advance, got, step.wantTokens)
		}
	}
	// The renewal came before UPS refused anything: every call succeeded
	// with one request each.
	if n := fake.Calls("POST /api/rating"); n != 4 {
		t.Errorf("%d rating requests, want 4 (no 401 retries)", n)
	}
}

func TestConfigHidesSecret(t *testing.T) {
	t.Parallel()
	cfg := ups.Config{ClientID: "id", ClientSecret: "very-secret"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%v", &cfg)} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("printed config shows the secret: %s", s)
		}
	}
}
