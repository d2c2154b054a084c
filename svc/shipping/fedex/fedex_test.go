package fedex_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/fedex"
	"github.com/emporiumhq/emporium/svc/shipping/fedex/fedextest"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf/pdftest"
)

var (
	start = time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	shop  = &typev1.PostalAddress{Name: "Emporium", Line1: "1 Market St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US", Phone: "4155550100"}
	ada   = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "500 Fifth Ave", City: "New York", Region: "NY", PostalCode: "10110", Country: "US"}
)

func newFedEx(t *testing.T) (*fedex.Carrier, *fedextest.Server, *clocktest.Clock) {
	t.Helper()
	clock := clocktest.New(start)
	fake := fedextest.Start(t, fedextest.Options{Now: clock.Now})
	c, err := fedex.New(fedex.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
		Shipper: shop, Currency: "USD", BaseURL: fake.URL, Now: clock.Now, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake, clock
}

func TestQuote(t *testing.T) {
	t.Parallel()
	c, _, _ := newFedEx(t)
	ctx := context.Background()
	rates, err := c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US", Region: "NY", PostalCode: "10110"}, WeightGrams: 2000})
	if err != nil {
		t.Fatal(err)
	}
	// The account (negotiated) rate, 90 % of list in the fake, for 5 lb.
	want := []shipping.Rate{
		{Service: "ground", Name: "FedEx Ground", Price: 1305, MinDays: 1, MaxDays: 5},
		{Service: "2-day", Name: "FedEx 2Day", Price: 2912, MinDays: 2, MaxDays: 2},
		{Service: "priority-overnight", Name: "FedEx Priority Overnight", Price: 5247, MinDays: 1, MaxDays: 1},
	}
	if diff := cmp.Diff(want, rates); diff != "" {
		t.Errorf("rates (-want +got):\n%s", diff)
	}
	rates, err = c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "AQ"}, WeightGrams: 2000})
	if err != nil || len(rates) != 0 {
		t.Errorf("where FedEx does not go: %v, %v; want no rates", rates, err)
	}
	_, err = c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US", PostalCode: "ABCDE"}, WeightGrams: 2000})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "[RECIPIENT.POSTALSTATE.MISMATCH]") {
		t.Errorf("bad ZIP: %v, want Invalid with FedEx's code", err)
	}
}

func TestCreateLabelTrackVoid(t *testing.T) {
	t.Parallel()
	c, fake, clock := newFedEx(t)
	ctx := context.Background()
	l, err := c.CreateLabel(ctx, shipping.LabelRequest{Reference: "sh_7", Service: "2-day", From: shop, To: ada, WeightGrams: 2000,
		LengthMM: 300, WidthMM: 200, HeightMM: 100, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if l.TrackingNumber != "794900000001" || l.Cost != 3235 || l.Currency != "USD" {
		t.Errorf("label %+v", l)
	}
	if text := pdftest.Text(t, l.PDF); !strings.Contains(text, l.TrackingNumber) || !strings.Contains(text, "REF: sh_7") {
		t.Errorf("label PDF text:\n%s", text)
	}
	clock.Advance(2 * time.Hour)
	fake.Scan(l.TrackingNumber, "pickup")
	clock.Advance(20 * time.Hour)
	fake.Scan(l.TrackingNumber, "out-for-delivery")
	tr, err := c.Track(ctx, l.TrackingNumber)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		At     time.Duration
		Status shipping.TrackingStatus
		Desc   string
		Where  string
	}
	var got []ev
	for _, e := range tr.Events {
		got = append(got, ev{e.Time.Sub(start), e.Status, e.Description, e.Location})
	}
	want := []ev{
		{0, shipping.TrackingLabelCreated, "Shipment information sent to FedEx", "US"},
		{2 * time.Hour, shipping.TrackingInTransit, "Picked up", "MEMPHIS, TN, US"},
		{22 * time.Hour, shipping.TrackingOutForDelivery, "On FedEx vehicle for delivery", "MEMPHIS, TN, US"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events, oldest first (-want +got):\n%s", diff)
	}
	if tr.Status != shipping.TrackingOutForDelivery || !tr.EstimatedDelivery.Equal(start.Add(22*time.Hour).AddDate(0, 0, 3)) {
		t.Errorf("status %v, estimate %v", tr.Status, tr.EstimatedDelivery)
	}
	if err := c.Void(ctx, l); !errs.Is(err, errs.FailedPrecondition) || !strings.Contains(err.Error(), "picked up") {
		t.Errorf("Void after pickup = %v, want FailedPrecondition with FedEx's reason", err)
	}
	if _, err := c.Track(ctx, "123456789012"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Track of an unknown number = %v, want NotFound", err)
	}
}

func TestCreateLabelIsNotResentAfter5xx(t *testing.T) {
	t.Parallel()
	c, fake, _ := newFedEx(t)
	fake.FailNext(1, 503)
	_, err := c.CreateLabel(context.Background(), shipping.LabelRequest{Reference: "sh_1", Service: "ground", From: shop, To: ada, WeightGrams: 500, Currency: "USD"})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "may or may not have taken effect at fedex") {
		t.Errorf("err = %v", err)
	}
	if n := fake.Calls("POST /ship"); n != 1 {
		t.Errorf("%d ship requests, want 1", n)
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	_, err := fedex.New(fedex.Config{ClientID: "id", Shipper: &typev1.PostalAddress{Country: "US", PostalCode: "94105"}})
	if err == nil || !strings.Contains(err.Error(), "account number, client secret, currency, shipper address (with country, postal code and phone)") {
		t.Errorf("err = %v", err)
	}
}
