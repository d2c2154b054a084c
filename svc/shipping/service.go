// Package shipping is the shipping service: it implements ShippingService
// from api/emporium/shipping/v1, which quotes the ways a parcel can ship.
//
// Rates come from carriers behind the Carrier port. For now the only one
// is the local carrier, a RateTable of prices by weight bracket and zone
// (domestic, region, international) loaded from JSON; the built-in table
// is rates.json. Real carriers (UPS, FedEx) will be further Carriers, and
// QuoteRates merges the rates of all of them, cheapest first.
package shipping

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"

	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Deps are what the service needs from the outside.
type Deps struct {
	Rates    *RateTable // the local carrier, e.g. DefaultRateTable()
	Currency string     // the shop's ISO 4217 currency, e.g. "USD"; Rates is priced in it
	Log      *slog.Logger
}

// Service implements the shipping API.
type Service struct {
	carriers []Carrier
	currency string
	log      *slog.Logger
}

var _ shippingv1connect.ShippingServiceHandler = (*Service)(nil)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// New checks deps and returns the service.
func New(d Deps) (*Service, error) {
	switch {
	case d.Rates == nil:
		return nil, errors.New("shipping: Rates is required (DefaultRateTable has the built-in rates)")
	case !currencyCode.MatchString(d.Currency):
		return nil, fmt.Errorf("shipping: currency %q is not an ISO 4217 code", d.Currency)
	case d.Log == nil:
		return nil, errors.New("shipping: Log is required")
	}
	return &Service{carriers: []Carrier{d.Rates}, currency: d.Currency, log: d.Log}, nil
}

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{shippingv1connect.ShippingServiceName}

// Mount registers the Connect handlers on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(shippingv1connect.NewShippingServiceHandler(s, opts...))
}

// QuoteRates implements ShippingService.
func (s *Service) QuoteRates(ctx context.Context, req *shippingv1.QuoteRatesRequest) (*shippingv1.QuoteRatesResponse, error) {
	rates, err := s.Quote(ctx, req.GetDestination(), req.GetWeightGrams(), req.GetSubtotal())
	if err != nil {
		return nil, err
	}
	return &shippingv1.QuoteRatesResponse{Rates: rates}, nil
}

// Quote lists what every carrier offers for a parcel, cheapest first (ties
// by id). It is QuoteRates without the RPC, so callers in process get the
// same answers; it checks its input by the rules of QuoteRatesRequest, and
// bad input is an errs.Invalid naming the field.
func (s *Service) Quote(ctx context.Context, dest *typev1.Destination, weightGrams int64, subtotal *typev1.Money) ([]*shippingv1.ShippingRate, error) {
	if err := validate(&shippingv1.QuoteRatesRequest{Destination: dest, WeightGrams: weightGrams, Subtotal: subtotal}); err != nil {
		return nil, err
	}
	if c := subtotal.GetCurrency(); c != s.currency {
		return nil, errs.Invalidf("subtotal.currency: %q is not the shop currency %q", c, s.currency)
	}
	parcel := Parcel{Destination: dest, WeightGrams: weightGrams, Subtotal: subtotal.GetAmount()}
	var out []*shippingv1.ShippingRate
	for _, c := range s.carriers {
		rates, err := c.Quote(ctx, parcel)
		if err != nil {
			// With a single carrier there is nothing else to offer. Whether
			// to answer with the other carriers' rates instead is for when
			// there are others.
			return nil, fmt.Errorf("carrier %s: %w", c.Name(), err)
		}
		for _, r := range rates {
			out = append(out, s.rateProto(c.Name(), r))
		}
	}
	slices.SortFunc(out, func(a, b *shippingv1.ShippingRate) int {
		return cmp.Or(cmp.Compare(a.GetPrice().GetAmount(), b.GetPrice().GetAmount()), strings.Compare(a.GetId(), b.GetId()))
	})
	if len(out) == 0 {
		s.log.InfoContext(ctx, "no carrier ships this parcel", "country", dest.GetCountry(), "weight_grams", weightGrams)
	}
	return out, nil
}

func (s *Service) rateProto(carrier string, r Rate) *shippingv1.ShippingRate {
	return &shippingv1.ShippingRate{
		Id:          carrier + ":" + r.Service,
		Carrier:     carrier,
		ServiceName: serviceName(r.Name, r.MinDays, r.MaxDays),
		Price:       &typev1.Money{Amount: r.Price, Currency: s.currency},
		MinDays:     r.MinDays,
		MaxDays:     r.MaxDays,
	}
}

// serviceName is what shoppers see, e.g. "Standard (3–5 business days)".
func serviceName(name string, minDays, maxDays int32) string {
	switch {
	case minDays == maxDays && maxDays == 1:
		return name + " (1 business day)"
	case minDays == maxDays:
		return fmt.Sprintf("%s (%d business days)", name, maxDays)
	}
	return fmt.Sprintf("%s (%d–%d business days)", name, minDays, maxDays)
}

// validate applies the protovalidate rules of QuoteRatesRequest, for
// callers that do not come through the validation interceptor.
func validate(req *shippingv1.QuoteRatesRequest) error {
	err := protovalidate.Validate(req)
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	msgs := make([]string, len(verr.Violations))
	for i, v := range verr.Violations {
		msgs[i] = v.String()
	}
	return errs.Invalidf("%s", strings.Join(msgs, "; "))
}
