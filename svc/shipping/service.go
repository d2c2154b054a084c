// Package shipping is the shipping service: it implements ShippingService
// from api/emporium/shipping/v1, which quotes the ways a parcel can ship
// and ships paid orders.
//
// Rates come from carriers behind the Carrier port: the local carrier, a
// RateTable of prices by weight bracket and zone (domestic, region,
// international) loaded from JSON (the built-in table is rates.json), and
// LabelCarriers (the local carrier in dev, UPS and FedEx), whose rates
// QuoteRates merges, cheapest first.
//
// Shipments (shipments.go) are parcels of an order with a label bought
// from a LabelCarrier and kept in Labels. Their tracking (tracking.go)
// comes from a periodic poll of the carriers and from signed carrier
// pushes. Every change that matters outside — a parcel shipped or
// delivered — puts jobs in the River outbox in the transaction of the
// change (jobs.go): one moves the order through the order service, one
// tells the notification service. Carriers are never called inside a
// database transaction.
package shipping

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

// Deps are what the service needs from the outside. Rates (or Carriers)
// and Currency are enough to quote; shipments also need DB, Orders, Labels
// and From. Without DB the service only quotes, and the shipment RPCs are
// unavailable.
type Deps struct {
	Rates    *RateTable // the quote-only local carrier, e.g. DefaultRateTable(); optional when Carriers has carriers
	Currency string     // the shop's ISO 4217 currency, e.g. "USD"; carriers price in it
	Log      *slog.Logger

	// Carriers buy labels and track parcels; QuoteRates merges their rates
	// with Rates'. Carrier names must be unique.
	Carriers []LabelCarrier
	DB       *bun.DB // migrated with Migrate
	// Orders is the order service, called with the internal credential:
	// GetOrderInternal and UpdateFulfillmentInternal.
	Orders orderv1connect.OrderServiceClient
	// Notifications is told when a parcel ships and is delivered; nil sends no
	// notifications.
	Notifications notificationv1connect.NotificationServiceClient
	// Labels stores bought labels (a blob.Store; a local directory in dev).
	Labels Labels
	// From is the address parcels ship from, printed on labels.
	From *typev1.PostalAddress
	// TrackingURLs maps a carrier name to its public tracking page, with
	// %s where the tracking number goes; carriers without one have no
	// tracking_url. DefaultTrackingURLs has UPS's and FedEx's.
	TrackingURLs map[string]string
	// TrackInterval is how often the tracking poller asks carriers about
	// parcels on their way; default 5 minutes.
	TrackInterval time.Duration
	// TrackBatch is how many parcels one poll asks about; default 100.
	TrackBatch int
	// WebhookSecret signs carrier tracking pushes to WebhookPath; empty
	// refuses every push.
	WebhookSecret string
	// WebhookURL is where carriers reach this shop from the internet, e.g.
	// "https://shop.example.com"; with WebhookSecret, parcels of carriers
	// that are PushSubscribers are subscribed to pushes at
	// WebhookURL+WebhookPath+carrier. Empty: tracking is polled only.
	WebhookURL string
	// JobPoll is how often the River client looks for jobs; 0 means River's
	// default (1 s).
	JobPoll time.Duration
	// JobTimeout bounds each job's run; 0 means the jobs package's default.
	JobTimeout time.Duration
	Now        func() time.Time // defaults to time.Now
}

// Labels is where bought labels are kept: the blob store port
// (internal/platform/blob.Store satisfies it).
type Labels interface {
	Put(ctx context.Context, key, contentType string, data []byte) error
	// Get returns errs.NotFound when there is nothing under key.
	Get(ctx context.Context, key string) (data []byte, contentType string, err error)
	Delete(ctx context.Context, key string) error
}

// DefaultTrackingURLs are the public tracking pages of the carriers that
// have adapters.
var DefaultTrackingURLs = map[string]string{
	"ups":   "https://www.ups.com/track?tracknum=%s",
	"fedex": "https://www.fedex.com/fedextrack/?trknbr=%s",
}

// Service implements the shipping API.
type Service struct {
	carriers      []Carrier
	labelCarriers map[string]LabelCarrier
	currency      string
	log           *slog.Logger

	// Shipments; nil store when the service only quotes.
	store         *store
	orders        orderv1connect.OrderServiceClient
	notifier      notificationv1connect.NotificationServiceClient
	labels        Labels
	from          *typev1.PostalAddress
	trackingURLs  map[string]string
	trackBatch    int
	webhookSecret string
	webhookURL    string
	now           func() time.Time
	jobs          *jobs.Client
	trackInterval time.Duration
	stopPolls     func() // ends what Start began: queueing a tracking poll every trackInterval
}

var _ shippingv1connect.ShippingServiceHandler = (*Service)(nil)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// New checks deps and returns the service. Its jobs (order updates,
// notifications, tracking polls) run between Start and Stop.
func New(d Deps) (*Service, error) {
	switch {
	case d.Rates == nil && len(d.Carriers) == 0:
		return nil, errors.New("shipping: Rates is required (DefaultRateTable has the built-in rates), or Carriers")
	case !currencyCode.MatchString(d.Currency):
		return nil, fmt.Errorf("shipping: currency %q is not an ISO 4217 code", d.Currency)
	case d.Log == nil:
		return nil, errors.New("shipping: Log is required")
	}
	s := &Service{labelCarriers: map[string]LabelCarrier{}, currency: d.Currency, log: d.Log}
	if d.Rates != nil {
		s.carriers = append(s.carriers, d.Rates)
	}
	for _, c := range d.Carriers {
		s.carriers = append(s.carriers, c)
		s.labelCarriers[c.Name()] = c
	}
	seen := map[string]bool{}
	for _, c := range s.carriers {
		if seen[c.Name()] {
			return nil, fmt.Errorf("shipping: two carriers are named %q", c.Name())
		}
		seen[c.Name()] = true
	}
	if d.DB == nil {
		return s, nil
	}
	switch {
	case d.Orders == nil:
		return nil, errors.New("shipping: Orders is required with DB")
	case d.Labels == nil:
		return nil, errors.New("shipping: Labels is required with DB")
	case d.From == nil:
		return nil, errors.New("shipping: From (the ship-from address) is required with DB")
	}
	if err := protovalidate.Validate(d.From); err != nil {
		return nil, fmt.Errorf("shipping: From: %w", err)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.TrackInterval <= 0 {
		d.TrackInterval = 5 * time.Minute
	}
	if d.TrackBatch <= 0 {
		d.TrackBatch = 100
	}
	if d.TrackingURLs == nil {
		d.TrackingURLs = DefaultTrackingURLs
	}
	s.store = &store{db: d.DB}
	s.orders, s.notifier, s.labels, s.from = d.Orders, d.Notifications, d.Labels, d.From
	s.trackingURLs, s.trackBatch, s.webhookSecret, s.now = d.TrackingURLs, d.TrackBatch, d.WebhookSecret, d.Now
	s.webhookURL = strings.TrimRight(d.WebhookURL, "/")
	s.trackInterval = d.TrackInterval
	client, err := jobs.New(d.DB, jobs.Config{
		Workers: s.workers(), Log: d.Log, FetchPollInterval: d.JobPoll, JobTimeout: d.JobTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("shipping: %w", err)
	}
	s.jobs = client
	return s, nil
}

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{shippingv1connect.ShippingServiceName}

// Mount registers the Connect handlers on mux and, when the service keeps
// shipments, the carriers' tracking webhook (POST WebhookPath+"{carrier}"),
// which is authenticated by its signature, not by opts' interceptors.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(shippingv1connect.NewShippingServiceHandler(s, opts...))
	if s.store != nil {
		mux.HandleFunc("POST "+WebhookPath+"{carrier}", s.serveWebhook)
	}
}

// Start works the service's jobs in the background until Stop (or the end
// of ctx). A quote-only service has none.
func (s *Service) Start(ctx context.Context) error {
	if s.jobs == nil {
		return nil
	}
	if err := s.jobs.Start(ctx); err != nil {
		return err
	}
	s.stopPolls = jobs.Every(ctx, s.trackInterval, s.queuePoll)
	return nil
}

// Stop stops taking jobs and waits for running ones, or for ctx to end.
func (s *Service) Stop(ctx context.Context) error {
	if s.jobs == nil {
		return nil
	}
	if s.stopPolls != nil {
		s.stopPolls()
	}
	return s.jobs.Stop(ctx)
}

// shipments is nil when the service keeps shipments, else why it does not.
func (s *Service) shipments() error {
	if s.store == nil {
		return errs.Unavailablef("this shipping service only quotes rates: it runs without a database")
	}
	return nil
}

// trackingURL is where shoppers follow a parcel, or "".
func (s *Service) trackingURL(carrier, number string) string {
	tmpl, ok := s.trackingURLs[carrier]
	if !ok || number == "" {
		return ""
	}
	return fmt.Sprintf(tmpl, url.QueryEscape(number))
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
	// Carriers are asked at once: a checkout waits for the slowest, not for
	// the sum of them.
	type answer struct {
		rates []Rate
		err   error
	}
	answers := make([]answer, len(s.carriers))
	var wg sync.WaitGroup
	for i, c := range s.carriers {
		wg.Go(func() {
			rates, err := c.Quote(ctx, parcel)
			answers[i] = answer{rates, err}
		})
	}
	wg.Wait()
	var (
		out    []*shippingv1.ShippingRate
		failed error
	)
	for i, a := range answers {
		c := s.carriers[i]
		if a.err != nil {
			// One carrier down (or refusing this destination) must not take
			// the others' options away from a checkout.
			s.log.WarnContext(ctx, "carrier gave no rates", "carrier", c.Name(), "error", a.err)
			if failed == nil {
				failed = fmt.Errorf("carrier %s: %w", c.Name(), a.err)
			}
			continue
		}
		for _, r := range a.rates {
			out = append(out, s.rateProto(c.Name(), r))
		}
	}
	if len(out) == 0 && failed != nil {
		// Nothing to offer, and a carrier that failed might have shipped it.
		return nil, failed
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
