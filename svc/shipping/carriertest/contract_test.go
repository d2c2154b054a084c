package carriertest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/fedex"
	"github.com/emporiumhq/emporium/svc/shipping/fedex/fedextest"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf/pdftest"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

var (
	shop = &typev1.PostalAddress{Name: "Emporium", Line1: "1 Market St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US", Phone: "4155550100"}
	ada  = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "500 Fifth Ave", City: "New York", Region: "NY", PostalCode: "10110", Country: "US"}
	slug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// target is one adapter under the suite, with the hooks that stand in for
// the world: time passing and scans for the local carrier, the fake's
// controls for the others.
type target struct {
	c        shipping.LabelCarrier
	service  string // a domestic service it sells
	unknown  string // a well-formed tracking number it never issued
	pickUp   func(tracking string)
	deliver  func(tracking string)
	pdfText  bool // the label has the tracking number as text (not an image)
	fakeAPI  bool // below are set
	revoke   func()
	tokens   func() int
	failNext func(n, status int)
}

// targets makes fresh adapters (and fakes) for one test.
func targets(t *testing.T) map[string]func() target {
	t.Helper()
	return map[string]func() target{
		"local": func() target {
			clock := clocktest.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
			c, err := shipping.NewLocalCarrier(shipping.LocalConfig{Now: clock.Now,
				PickupAfter: time.Hour, OutForDeliveryAfter: 20 * time.Hour, DeliveredAfter: 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			return target{c: c, service: "standard", unknown: "LC179628400012345600", pdfText: true,
				pickUp:  func(string) { clock.Advance(2 * time.Hour) },
				deliver: func(string) { clock.Advance(24 * time.Hour) },
			}
		},
		"ups": func() target {
			clock := clocktest.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
			fake := upstest.Start(t, upstest.Options{Now: clock.Now})
			c, err := ups.New(ups.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
				Shipper: shop, Currency: "USD", BaseURL: fake.URL, Now: clock.Now, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return target{c: c, service: "ground", unknown: "1Z999AA10123456784",
				pickUp: func(n string) { clock.Advance(2 * time.Hour); fake.Scan(n, "pickup") },
				deliver: func(n string) {
					clock.Advance(20 * time.Hour)
					fake.Scan(n, "out-for-delivery")
					clock.Advance(4 * time.Hour)
					fake.Scan(n, "delivered")
				},
				fakeAPI: true, revoke: fake.RevokeTokens, tokens: fake.TokenFetches, failNext: fake.FailNext,
			}
		},
		"fedex": func() target {
			clock := clocktest.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
			fake := fedextest.Start(t, fedextest.Options{Now: clock.Now})
			c, err := fedex.New(fedex.Config{ClientID: fake.ClientID, ClientSecret: fake.ClientSecret, AccountNumber: fake.Account,
				Shipper: shop, Currency: "USD", BaseURL: fake.URL, Now: clock.Now, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			return target{c: c, service: "ground", unknown: "123456789012", pdfText: true,
				pickUp: func(n string) { clock.Advance(2 * time.Hour); fake.Scan(n, "pickup") },
				deliver: func(n string) {
					clock.Advance(20 * time.Hour)
					fake.Scan(n, "out-for-delivery")
					clock.Advance(4 * time.Hour)
					fake.Scan(n, "delivered")
				},
				fakeAPI: true, revoke: fake.RevokeTokens, tokens: fake.TokenFetches, failNext: fake.FailNext,
			}
		},
	}
}

func (tg target) label(t *testing.T, ref string) shipping.Label {
	t.Helper()
	l, err := tg.c.CreateLabel(context.Background(), shipping.LabelRequest{Reference: ref, Service: tg.service, From: shop, To: ada,
		WeightGrams: 1500, LengthMM: 250, WidthMM: 200, HeightMM: 100, Currency: "USD", DeclaredValue: 4999})
	if err != nil {
		t.Fatalf("CreateLabel: %v", err)
	}
	return l
}

func TestContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, mk := range targets(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			t.Run("quote", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				rates, err := tg.c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US", Region: "NY", PostalCode: "10110"}, WeightGrams: 1500, Subtotal: 4999})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(rates, func(r shipping.Rate) bool { return r.Service == tg.service }) {
					t.Errorf("no %s rate in %+v", tg.service, rates)
				}
				for _, r := range rates {
					if !slug.MatchString(r.Service) || r.Name == "" || r.Price <= 0 || r.MinDays < 0 || r.MinDays > r.MaxDays {
						t.Errorf("unsound rate %+v", r)
					}
				}
				if _, err := tg.c.Quote(ctx, shipping.Parcel{Destination: &typev1.Destination{Country: "US"}, WeightGrams: 0}); !errs.Is(err, errs.Invalid) {
					t.Errorf("Quote of 0 g = %v, want Invalid", err)
				}
			})

			t.Run("label", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				l := tg.label(t, "sh_contract_1")
				if l.TrackingNumber == "" || l.Cost <= 0 || l.Currency != "USD" {
					t.Errorf("label %+v", l)
				}
				if got := pdftest.PageSize(t, l.PDF); got != "288 x 432" {
					t.Errorf("label page %s pts, want 288 x 432 (4x6 in)", got)
				}
				text := pdftest.Text(t, l.PDF)
				if tg.pdfText && !strings.Contains(text, l.TrackingNumber) {
					t.Errorf("label text lacks %s:\n%s", l.TrackingNumber, text)
				}
			})

			t.Run("bad address is invalid", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				to := &typev1.PostalAddress{Name: "Ada", Line1: "500 Fifth Ave", City: "New York", Region: "NY", PostalCode: "1011", Country: "US"}
				_, err := tg.c.CreateLabel(ctx, shipping.LabelRequest{Reference: "sh_bad", Service: tg.service, From: shop, To: to, WeightGrams: 1500, Currency: "USD"})
				if !errs.Is(err, errs.Invalid) {
					t.Errorf("CreateLabel to ZIP 1011 = %v, want Invalid", err)
				}
			})

			t.Run("track through delivery", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				l := tg.label(t, "sh_contract_track")
				check := func(want shipping.TrackingStatus) shipping.Tracking {
					t.Helper()
					tr, err := tg.c.Track(ctx, l.TrackingNumber)
					if err != nil {
						t.Fatalf("Track: %v", err)
					}
					if tr.Status != want || tr.TrackingNumber != l.TrackingNumber || len(tr.Events) == 0 {
						t.Fatalf("tracking %+v, want status %v", tr, want)
					}
					if !slices.IsSortedFunc(tr.Events, func(a, b shipping.TrackingEvent) int { return a.Time.Compare(b.Time) }) {
						t.Errorf("events not oldest first: %+v", tr.Events)
					}
					if last := tr.Events[len(tr.Events)-1]; last.Status != tr.Status {
						t.Errorf("status %v but the last event is %v", tr.Status, last.Status)
					}
					return tr
				}
				check(shipping.TrackingLabelCreated)
				tg.pickUp(l.TrackingNumber)
				check(shipping.TrackingInTransit)
				tg.deliver(l.TrackingNumber)
				if tr := check(shipping.TrackingDelivered); !tr.Status.Final() {
					t.Error("delivered is not final")
				}
				if _, err := tg.c.Track(ctx, tg.unknown); !errs.Is(err, errs.NotFound) {
					t.Errorf("Track(%s) = %v, want NotFound", tg.unknown, err)
				}
			})

			t.Run("void until picked up", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				l := tg.label(t, "sh_contract_void")
				if err := tg.c.Void(ctx, l); err != nil {
					t.Fatalf("Void: %v", err)
				}
				if err := tg.c.Void(ctx, l); err != nil {
					t.Errorf("second Void: %v, want nil", err)
				}
				shipped := tg.label(t, "sh_contract_shipped")
				tg.pickUp(shipped.TrackingNumber)
				if err := tg.c.Void(ctx, shipped); !errs.Is(err, errs.FailedPrecondition) {
					t.Errorf("Void after pickup = %v, want FailedPrecondition", err)
				}
			})

			t.Run("expired token is refreshed once", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				if !tg.fakeAPI {
					t.Skip("the local carrier has no tokens")
				}
				l := tg.label(t, "sh_contract_token")
				before := tg.tokens()
				tg.revoke()
				if _, err := tg.c.Track(ctx, l.TrackingNumber); err != nil {
					t.Fatalf("Track with a revoked token: %v", err)
				}
				if _, err := tg.c.Track(ctx, l.TrackingNumber); err != nil {
					t.Fatal(err)
				}
				if got := tg.tokens() - before; got != 1 {
					t.Errorf("%d new tokens, want exactly 1", got)
				}
			})

			t.Run("5xx is retried, then unavailable", func(t *testing.T) {
				t.Parallel()
				tg := mk()
				if !tg.fakeAPI {
					t.Skip("the local carrier has no API")
				}
				l := tg.label(t, "sh_contract_5xx")
				tg.failNext(2, 503)
				if _, err := tg.c.Track(ctx, l.TrackingNumber); err != nil {
					t.Errorf("Track after two 503s: %v, want it retried to success", err)
				}
				tg.failNext(100, 503)
				_, err := tg.c.Track(ctx, l.TrackingNumber)
				if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "(503 after 3 attempts)") {
					t.Errorf("Track against a failing API = %v, want Unavailable naming the status", err)
				}
				tg.failNext(0, 0)
			})
		})
	}
}
