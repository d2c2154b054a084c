package shipping

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf"
)

// LocalConfig configures the local carrier.
type LocalConfig struct {
	// Rates prices the parcels; DefaultRateTable() when nil.
	Rates *RateTable
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// How long after a label is made the parcel is picked up (until then it
	// can be voided), goes out for delivery and is delivered. Zero values
	// take the defaults: 2m, 10m and 15m, so a shop in `emporium dev` sees a
	// parcel through in a quarter of an hour.
	PickupAfter, OutForDeliveryAfter, DeliveredAfter time.Duration
}

// ParseSchedule sets PickupAfter, OutForDeliveryAfter and DeliveredAfter
// from a setting such as "2m,10m,15m".
func (cfg *LocalConfig) ParseSchedule(s string) error {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fmt.Errorf("local carrier schedule %q: want three durations, pickup,out-for-delivery,delivered, e.g. 2m,10m,15m", s)
	}
	var d [3]time.Duration
	for i, p := range parts {
		v, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return fmt.Errorf("local carrier schedule %q: %q is not a positive duration", s, p)
		}
		d[i] = v
	}
	if d[0] >= d[1] || d[1] >= d[2] {
		return fmt.Errorf("local carrier schedule %q: each step must come after the one before", s)
	}
	cfg.PickupAfter, cfg.OutForDeliveryAfter, cfg.DeliveredAfter = d[0], d[1], d[2]
	return nil
}

// LocalCarrier is the dev carrier: it prices by a RateTable, prints real PDF
// labels and moves parcels along on a schedule, with no account anywhere.
//
// It keeps no storage. A tracking number is "LC", then the label's creation
// time (10 digits of Unix seconds), 6 random digits and 2 check digits, so a
// parcel is tracked from its number alone and tracking survives a restart.
// What it keeps in memory is lost on a restart: the labels by reference
// (which make CreateLabel idempotent) and which labels were voided (a voided
// label then tracks as created but never picked up).
type LocalCarrier struct {
	rates                              *RateTable
	now                                func() time.Time
	pickup, outForDelivery, deliveryAt time.Duration

	mu     sync.Mutex
	byRef  map[string]Label
	voided map[string]bool
}

var _ LabelCarrier = (*LocalCarrier)(nil)

// NewLocalCarrier returns the local carrier configured by cfg.
func NewLocalCarrier(cfg LocalConfig) (*LocalCarrier, error) {
	c := &LocalCarrier{
		rates: cfg.Rates, now: cfg.Now,
		pickup: cfg.PickupAfter, outForDelivery: cfg.OutForDeliveryAfter, deliveryAt: cfg.DeliveredAfter,
		byRef: map[string]Label{}, voided: map[string]bool{},
	}
	if c.rates == nil {
		c.rates = DefaultRateTable()
	}
	if c.now == nil {
		c.now = time.Now
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.pickup, 2 * time.Minute}, {&c.outForDelivery, 10 * time.Minute}, {&c.deliveryAt, 15 * time.Minute}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.pickup < 0 || c.outForDelivery <= c.pickup || c.deliveryAt <= c.outForDelivery {
		return nil, fmt.Errorf("shipping: local carrier: want 0 <= pickup (%v) < out for delivery (%v) < delivered (%v)",
			c.pickup, c.outForDelivery, c.deliveryAt)
	}
	return c, nil
}

// Name implements Carrier: the rate table's carrier name, "local" by default.
func (c *LocalCarrier) Name() string { return c.rates.Name() }

// Quote implements Carrier.
func (c *LocalCarrier) Quote(ctx context.Context, p Parcel) ([]Rate, error) {
	return c.rates.Quote(ctx, p)
}

// CreateLabel implements LabelCarrier. A second call with the same Reference
// returns the first label (until a restart).
func (c *LocalCarrier) CreateLabel(ctx context.Context, req LabelRequest) (Label, error) {
	if strings.TrimSpace(req.Reference) == "" {
		return Label{}, errs.Invalidf("reference: required")
	}
	if err := checkAddress("from", req.From); err != nil {
		return Label{}, err
	}
	if err := checkAddress("to", req.To); err != nil {
		return Label{}, err
	}
	c.mu.Lock()
	l, done := c.byRef[req.Reference]
	c.mu.Unlock()
	if done {
		return l, nil
	}
	rates, err := c.rates.Quote(ctx, Parcel{
		Destination: &typev1.Destination{Country: req.To.GetCountry(), Region: req.To.GetRegion(), PostalCode: req.To.GetPostalCode()},
		WeightGrams: req.WeightGrams,
		Subtotal:    req.DeclaredValue,
	})
	if err != nil {
		return Label{}, err
	}
	var rate *Rate
	for i := range rates {
		if rates[i].Service == req.Service {
			rate = &rates[i]
		}
	}
	if rate == nil {
		return Label{}, errs.Invalidf("service: %s %q does not carry %d g to %s", c.Name(), req.Service, req.WeightGrams, req.To.GetCountry())
	}
	number, err := newLocalTrackingNumber(c.now())
	if err != nil {
		return Label{}, err
	}
	l = Label{
		TrackingNumber: number,
		PDF: labelpdf.Render(labelpdf.Label{
			Carrier: "LOCAL CARRIER", Service: rate.Name, TrackingNumber: number,
			Reference: req.Reference, WeightGrams: req.WeightGrams,
			From: printAddress(req.From), To: printAddress(req.To),
		}),
		Cost:     rate.Price,
		Currency: req.Currency,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if first, raced := c.byRef[req.Reference]; raced {
		return first, nil
	}
	c.byRef[req.Reference] = l
	return l, nil
}

// Void implements LabelCarrier: a label can be voided until its parcel is
// picked up; after that it is errs.FailedPrecondition.
func (c *LocalCarrier) Void(_ context.Context, l Label) error {
	created, err := parseLocalTrackingNumber(l.TrackingNumber)
	if err != nil {
		return err
	}
	if at := created.Add(c.pickup); !c.now().Before(at) {
		c.mu.Lock()
		voided := c.voided[l.TrackingNumber]
		c.mu.Unlock()
		if voided {
			return nil
		}
		return errs.FailedPreconditionf("local: parcel %s was picked up at %s; its label can no longer be voided",
			l.TrackingNumber, at.UTC().Format(time.RFC3339))
	}
	c.mu.Lock()
	c.voided[l.TrackingNumber] = true
	c.mu.Unlock()
	return nil
}

// Track implements LabelCarrier: the parcel's events up to now, from the
// schedule in LocalConfig.
func (c *LocalCarrier) Track(_ context.Context, trackingNumber string) (Tracking, error) {
	created, err := parseLocalTrackingNumber(trackingNumber)
	if err != nil {
		return Tracking{}, err
	}
	t := Tracking{TrackingNumber: trackingNumber, EstimatedDelivery: created.Add(c.deliveryAt)}
	steps := []TrackingEvent{
		{Time: created, Status: TrackingLabelCreated, Description: "Shipping label created"},
		{Time: created.Add(c.pickup), Status: TrackingInTransit, Description: "Picked up", Location: "Origin facility"},
		{Time: created.Add((c.pickup + c.outForDelivery) / 2), Status: TrackingInTransit, Description: "Departed facility", Location: "Origin facility"},
		{Time: created.Add(c.outForDelivery), Status: TrackingOutForDelivery, Description: "Out for delivery", Location: "Destination facility"},
		{Time: created.Add(c.deliveryAt), Status: TrackingDelivered, Description: "Delivered"},
	}
	c.mu.Lock()
	voided := c.voided[trackingNumber]
	c.mu.Unlock()
	if voided {
		steps = steps[:1]
		t.EstimatedDelivery = time.Time{}
	}
	now := c.now()
	for _, e := range steps {
		if e.Time.After(now) {
			break
		}
		t.Events = append(t.Events, e)
		t.Status = e.Status
	}
	if len(t.Events) == 0 { // made "in the future" by a clock that went back
		t.Events, t.Status = steps[:1], TrackingLabelCreated
	}
	return t, nil
}

var localNumber = regexp.MustCompile(`^LC(\d{10})(\d{6})(\d{2})$`)

func newLocalTrackingNumber(now time.Time) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("local carrier: %w", err)
	}
	body := fmt.Sprintf("%010d%06d", now.Unix(), n.Int64())
	return fmt.Sprintf("LC%s%02d", body, localCheck(body)), nil
}

// localCheck is the ISO 7064 mod 97-10 check of body's digits, as IBANs use:
// it catches every single-digit slip and every swap of neighbours.
func localCheck(body string) int64 {
	v, _ := strconv.ParseInt(body, 10, 64) // 16 digits fit
	return 98 - (v*100)%97
}

func parseLocalTrackingNumber(s string) (time.Time, error) {
	m := localNumber.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, errs.Invalidf("tracking number %q is not a local carrier number (LC and 18 digits)", s)
	}
	check, _ := strconv.ParseInt(m[3], 10, 64)
	if localCheck(m[1]+m[2]) != check {
		return time.Time{}, errs.NotFoundf("no local parcel has tracking number %s (its check digits are wrong)", s)
	}
	secs, _ := strconv.ParseInt(m[1], 10, 64)
	return time.Unix(secs, 0).UTC(), nil
}

var (
	usZIP      = regexp.MustCompile(`^\d{5}(-\d{4})?$`)
	caPostcode = regexp.MustCompile(`^[A-Z]\d[A-Z] ?\d[A-Z]\d$`)
)

// checkAddress refuses an address no carrier could deliver to, as
// errs.Invalid naming the field under prefix (e.g. "to.postal_code"): a
// missing name, street or city, a country that is not ISO 3166-1 alpha-2,
// and for the US and Canada a malformed postal code.
func checkAddress(prefix string, a *typev1.PostalAddress) error {
	switch {
	case a == nil:
		return errs.Invalidf("%s: address required", prefix)
	case strings.TrimSpace(a.GetName()) == "":
		return errs.Invalidf("%s.name: required", prefix)
	case strings.TrimSpace(a.GetLine1()) == "":
		return errs.Invalidf("%s.line1: required", prefix)
	case strings.TrimSpace(a.GetCity()) == "":
		return errs.Invalidf("%s.city: required", prefix)
	case !countryCode.MatchString(a.GetCountry()):
		return errs.Invalidf("%s.country: %q is not an ISO 3166-1 alpha-2 country code", prefix, a.GetCountry())
	case a.GetCountry() == "US" && !usZIP.MatchString(a.GetPostalCode()):
		return errs.Invalidf("%s.postal_code: %q is not a US ZIP code (12345 or 12345-6789)", prefix, a.GetPostalCode())
	case a.GetCountry() == "CA" && !caPostcode.MatchString(strings.ToUpper(a.GetPostalCode())):
		return errs.Invalidf("%s.postal_code: %q is not a Canadian postal code (A1A 1A1)", prefix, a.GetPostalCode())
	}
	return nil
}

// printAddress is a in the label printer's terms.
func printAddress(a *typev1.PostalAddress) labelpdf.Address {
	return labelpdf.Address{
		Name: a.GetName(), Company: a.GetCompany(), Line1: a.GetLine1(), Line2: a.GetLine2(),
		City: a.GetCity(), Region: a.GetRegion(), PostalCode: a.GetPostalCode(), Country: a.GetCountry(),
	}
}
