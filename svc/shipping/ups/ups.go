// Package ups is the UPS carrier on UPS's REST APIs (developer.ups.com):
// OAuth client credentials, Rating (Shop), Shipping (ship and void) and
// Tracking, version v2403 where the API is versioned.
//
// UPS prints labels as GIF images; the adapter asks for GIF on 4×6 stock
// and wraps the image into a one-page PDF, so every carrier's Label.PDF is
// a PDF.
package ups

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // UPS labels
	_ "image/png" // UPS labels, when PNG is asked for
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/carrierhttp"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf"
)

// Base URLs of UPS's APIs.
const (
	ProductionURL = "https://onlinetools.ups.com"
	TestURL       = "https://wwwcie.ups.com" // Customer Integration Environment
)

// Version is the API version of Rating and Shipping used.
const Version = "v2403"

// Config configures the UPS carrier.
type Config struct {
	// ClientID and ClientSecret are the OAuth credentials of the app at
	// developer.ups.com.
	ClientID, ClientSecret string
	// AccountNumber is the 6-character UPS shipper number billed for labels.
	AccountNumber string
	// Shipper is the shop's address: the origin of rates and the shipper on
	// labels (a label's From is its ship-from address).
	Shipper *typev1.PostalAddress
	// Currency is the shop currency; rates UPS gives in another are dropped.
	Currency string
	// BaseURL is ProductionURL when empty.
	BaseURL string
	// HTTPClient, Now, MaxAttempts and Backoff tune the HTTP plumbing (see
	// carrierhttp.Config); zero values take its defaults.
	HTTPClient  *http.Client
	Now         func() time.Time
	MaxAttempts int
	Backoff     time.Duration
}

// String describes cfg without its secret, should it ever be printed.
func (cfg Config) String() string {
	return fmt.Sprintf("ups.Config{ClientID: %q, ClientSecret: [redacted], AccountNumber: %q, BaseURL: %q}",
		cfg.ClientID, cfg.AccountNumber, cfg.BaseURL)
}

// Carrier is UPS. It is safe for concurrent use.
type Carrier struct {
	cfg  Config
	http *carrierhttp.Client
	imp  bool // imperial units (US and Puerto Rico origins)
}

var _ shipping.LabelCarrier = (*Carrier)(nil)

// New checks cfg and returns the UPS carrier.
func New(cfg Config) (*Carrier, error) {
	var shipper []string
	if cfg.Shipper == nil || cfg.Shipper.GetCountry() == "" || cfg.Shipper.GetPostalCode() == "" {
		shipper = append(shipper, "shipper address (with country and postal code)")
	}
	err := carrierhttp.CheckConfig("ups", map[string]string{
		"client id": cfg.ClientID, "client secret": cfg.ClientSecret, "account number": cfg.AccountNumber, "currency": cfg.Currency,
	}, shipper...)
	if err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ProductionURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc, err := carrierhttp.New(carrierhttp.Config{
		Carrier: "ups", BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient,
		MaxAttempts: cfg.MaxAttempts, Backoff: cfg.Backoff, ParseErrors: parseErrors,
		OAuth: &carrierhttp.OAuth{TokenPath: "/security/v1/oauth/token", ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Now: cfg.Now},
	})
	if err != nil {
		return nil, err
	}
	return &Carrier{cfg: cfg, http: hc, imp: carrierhttp.Imperial(cfg.Shipper.GetCountry())}, nil
}

// Name implements shipping.Carrier.
func (*Carrier) Name() string { return "ups" }

// service is a UPS service: its code in the API, our id and name, and the
// business days it usually takes when UPS does not say.
type service struct {
	code, id, name   string
	minDays, maxDays int32
}

var services = []service{
	{"01", "next-day-air", "UPS Next Day Air", 1, 1},
	{"02", "2nd-day-air", "UPS 2nd Day Air", 2, 2},
	{"03", "ground", "UPS Ground", 1, 5},
	{"07", "worldwide-express", "UPS Worldwide Express", 1, 3},
	{"08", "worldwide-expedited", "UPS Worldwide Expedited", 2, 5},
	{"11", "standard", "UPS Standard", 1, 5},
	{"12", "3-day-select", "UPS 3 Day Select", 3, 3},
	{"13", "next-day-air-saver", "UPS Next Day Air Saver", 1, 1},
	{"14", "next-day-air-early", "UPS Next Day Air Early", 1, 1},
	{"54", "worldwide-express-plus", "UPS Worldwide Express Plus", 1, 3},
	{"59", "2nd-day-air-am", "UPS 2nd Day Air A.M.", 2, 2},
	{"65", "worldwide-saver", "UPS Worldwide Saver", 1, 3},
}

func serviceByCode(code string) (service, bool) {
	i := slices.IndexFunc(services, func(s service) bool { return s.code == code })
	if i < 0 {
		return service{}, false
	}
	return services[i], true
}

func serviceByID(id string) (service, bool) {
	i := slices.IndexFunc(services, func(s service) bool { return s.id == id })
	if i < 0 {
		return service{}, false
	}
	return services[i], true
}

// Error codes UPS answers that the adapter treats specially. 120802 (bad
// ship-to address) comes from UPS's documentation; these three are from
// memory of UPS's error lists and must be confirmed in UPS's CIE before
// production: if UPS sends others, "no service" surfaces as errs.Invalid
// and "already voided" as errs.FailedPrecondition instead.
const (
	codeNoService     = "111210" // the service is unavailable between the locations
	codeAlreadyVoided = "190117" // void of a shipment already voided
	codeNoTracking    = "TW0001" // tracking information not found
)

// Quote implements shipping.Carrier with the Rating API's Shop request:
// every service UPS offers from the shipper to the destination.
func (c *Carrier) Quote(ctx context.Context, p shipping.Parcel) ([]shipping.Rate, error) {
	if p.WeightGrams <= 0 || p.WeightGrams > shipping.MaxWeightGrams {
		return nil, errs.Invalidf("weight_grams: %d is not between 1 and %d", p.WeightGrams, shipping.MaxWeightGrams)
	}
	dest := p.Destination
	req := RateRequest{Request: Request{RequestOption: "Shop", TransactionReference: &TransactionReference{CustomerContext: "rate"}}}
	req.Shipment = RateShipment{
		Shipper:  Party{Name: c.cfg.Shipper.GetName(), ShipperNumber: c.cfg.AccountNumber, Address: c.address(c.cfg.Shipper)},
		ShipFrom: &Party{Name: c.cfg.Shipper.GetName(), Address: c.address(c.cfg.Shipper)},
		ShipTo: Party{Address: Address{
			StateProvinceCode: dest.GetRegion(), PostalCode: dest.GetPostalCode(), CountryCode: dest.GetCountry(),
		}},
		Package:               []Package{c.pkg(p.WeightGrams, 0, 0, 0, "")},
		ShipmentRatingOptions: &RatingOptions{NegotiatedRatesIndicator: "Y"},
	}
	var resp struct {
		RateResponse struct {
			RatedShipment OneOrMany[RatedShipment] `json:"RatedShipment"`
		} `json:"RateResponse"`
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "rate", Method: http.MethodPost, Path: "/api/rating/" + Version + "/Shop",
		Header: c.transHeader(), JSON: map[string]any{"RateRequest": req}, Idempotent: true}, &resp)
	if apiErr, ok := carrierhttp.AsAPIError(err); ok && apiErr.HasCode(codeNoService) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rates []shipping.Rate
	for _, rs := range resp.RateResponse.RatedShipment {
		svc, ok := serviceByCode(rs.Service.Code)
		if !ok {
			continue
		}
		charge := rs.TotalCharges
		if rs.NegotiatedRateCharges != nil && rs.NegotiatedRateCharges.TotalCharge.MonetaryValue != "" {
			charge = rs.NegotiatedRateCharges.TotalCharge
		}
		if !strings.EqualFold(charge.CurrencyCode, c.cfg.Currency) {
			continue
		}
		price, err := money.Parse(charge.MonetaryValue, c.cfg.Currency)
		if err != nil {
			return nil, errs.Unavailablef("ups: rate: %s: %v", svc.name, err)
		}
		r := shipping.Rate{Service: svc.id, Name: svc.name, Price: price, MinDays: svc.minDays, MaxDays: svc.maxDays}
		if d := rs.GuaranteedDelivery; d != nil {
			var days int32
			if _, err := fmt.Sscan(d.BusinessDaysInTransit, &days); err == nil && days > 0 {
				r.MinDays, r.MaxDays = days, days
			}
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// CreateLabel implements shipping.LabelCarrier with the Shipping API. UPS
// has no idempotency key for shipments: a request whose answer is lost is
// not resent (see carrierhttp) and the error says so.
func (c *Carrier) CreateLabel(ctx context.Context, req shipping.LabelRequest) (shipping.Label, error) {
	svc, ok := serviceByID(req.Service)
	if !ok {
		return shipping.Label{}, errs.Invalidf("service: UPS has no service %q", req.Service)
	}
	if req.From == nil || req.To == nil {
		return shipping.Label{}, errs.Invalidf("from and to: both addresses are required")
	}
	ref := truncate(req.Reference, 35)
	sr := ShipmentRequest{
		Request: Request{RequestOption: "nonvalidate", TransactionReference: &TransactionReference{CustomerContext: ref}},
		Shipment: Shipment{
			Description: "Order " + ref,
			Shipper: Party{Name: truncate(c.cfg.Shipper.GetName(), 35), AttentionName: truncate(c.cfg.Shipper.GetName(), 35),
				Phone: phone(c.cfg.Shipper), ShipperNumber: c.cfg.AccountNumber, Address: c.address(c.cfg.Shipper)},
			ShipFrom: &Party{Name: truncate(orName(req.From), 35), AttentionName: truncate(req.From.GetName(), 35),
				Phone: phone(req.From), Address: c.address(req.From)},
			ShipTo: Party{Name: truncate(orName(req.To), 35), AttentionName: truncate(req.To.GetName(), 35),
				Phone: phone(req.To), Address: c.address(req.To)},
			PaymentInformation:    &PaymentInformation{ShipmentCharge: []ShipmentCharge{{Type: "01", BillShipper: &BillShipper{AccountNumber: c.cfg.AccountNumber}}}},
			Service:               &Code{Code: svc.code, Description: svc.name},
			Package:               []Package{c.pkg(req.WeightGrams, req.LengthMM, req.WidthMM, req.HeightMM, ref)},
			ShipmentRatingOptions: &RatingOptions{NegotiatedRatesIndicator: "Y"},
		},
		LabelSpecification: &LabelSpecification{LabelImageFormat: Code{Code: "GIF"}, LabelStockSize: &StockSize{Height: "6", Width: "4"}},
	}
	var resp struct {
		ShipmentResponse struct {
			ShipmentResults struct {
				ShipmentCharges       *Charges `json:"ShipmentCharges"`
				NegotiatedRateCharges *struct {
					TotalCharge Money `json:"TotalCharge"`
				} `json:"NegotiatedRateCharges"`
				ShipmentIdentificationNumber string                    `json:"ShipmentIdentificationNumber"`
				PackageResults               OneOrMany[PackageResults] `json:"PackageResults"`
			} `json:"ShipmentResults"`
		} `json:"ShipmentResponse"`
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "create label", Method: http.MethodPost, Path: "/api/shipments/" + Version + "/ship",
		Header: c.transHeader(), JSON: map[string]any{"ShipmentRequest": sr}}, &resp)
	if err != nil {
		return shipping.Label{}, err
	}
	res := resp.ShipmentResponse.ShipmentResults
	if len(res.PackageResults) == 0 || res.PackageResults[0].TrackingNumber == "" {
		return shipping.Label{}, errs.Unavailablef("ups: create label: the answer has no package tracking number (shipment %s)", res.ShipmentIdentificationNumber)
	}
	pkg := res.PackageResults[0]
	pdf, err := labelPDF(pkg.ShippingLabel.GraphicImage)
	if err != nil {
		return shipping.Label{}, &errs.Error{Kind: errs.Unavailable, Err: err,
			Message: fmt.Sprintf("ups: create label: shipment %s was bought but its label image is unreadable; reprint it at UPS", res.ShipmentIdentificationNumber)}
	}
	l := shipping.Label{TrackingNumber: pkg.TrackingNumber, CarrierShipmentID: res.ShipmentIdentificationNumber, PDF: pdf}
	charge := Money{}
	if res.ShipmentCharges != nil {
		charge = res.ShipmentCharges.TotalCharges
	}
	if res.NegotiatedRateCharges != nil && res.NegotiatedRateCharges.TotalCharge.MonetaryValue != "" {
		charge = res.NegotiatedRateCharges.TotalCharge
	}
	if charge.MonetaryValue != "" {
		if l.Cost, err = money.Parse(charge.MonetaryValue, charge.CurrencyCode); err != nil {
			return shipping.Label{}, errs.Unavailablef("ups: create label: shipment %s: cost: %v", res.ShipmentIdentificationNumber, err)
		}
		l.Currency = strings.ToUpper(charge.CurrencyCode)
	}
	return l, nil
}

// labelPDF turns UPS's base64 label image into a PDF.
func labelPDF(b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("label image: %w", err)
	}
	if labelpdf.IsPDF(raw) {
		return raw, nil
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("label image: %w", err)
	}
	if b := img.Bounds(); b.Dx()*b.Dy() > 4000*4000 {
		return nil, fmt.Errorf("label image is %dx%d pixels, too large", b.Dx(), b.Dy())
	}
	return labelpdf.ImagePDF(img), nil
}

// Void implements shipping.LabelCarrier. It voids by the shipment
// identification number (the tracking number when it is unknown). A label
// UPS will no longer void (picked up, or past the void window) is
// errs.FailedPrecondition with UPS's reason.
func (c *Carrier) Void(ctx context.Context, l shipping.Label) error {
	id := l.CarrierShipmentID
	if id == "" {
		id = l.TrackingNumber
	}
	if id == "" {
		return errs.Invalidf("label: no shipment id or tracking number to void")
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "void label", Method: http.MethodDelete,
		Path: "/api/shipments/" + Version + "/void/cancel/" + url.PathEscape(id), Header: c.transHeader(), Idempotent: true}, nil)
	apiErr, isAPI := carrierhttp.AsAPIError(err)
	switch {
	case err == nil:
		return nil
	case isAPI && apiErr.HasCode(codeAlreadyVoided):
		return nil
	case isAPI && apiErr.Status >= 400 && apiErr.Status < 500 && errs.Is(err, errs.Invalid):
		return &errs.Error{Kind: errs.FailedPrecondition, Err: err, Message: "ups: the label cannot be voided: " + apiErr.DetailText()}
	}
	return err
}

// Track implements shipping.LabelCarrier with the Tracking API.
func (c *Carrier) Track(ctx context.Context, trackingNumber string) (shipping.Tracking, error) {
	if strings.TrimSpace(trackingNumber) == "" {
		return shipping.Tracking{}, errs.Invalidf("tracking number is empty")
	}
	var resp TrackResponse
	err := c.http.Do(ctx, carrierhttp.Request{Op: "track", Method: http.MethodGet,
		Path:  "/api/track/v1/details/" + url.PathEscape(trackingNumber),
		Query: url.Values{"locale": {"en_US"}, "returnSignature": {"false"}}, Header: c.transHeader(), Idempotent: true}, &resp)
	if err != nil {
		return shipping.Tracking{}, err
	}
	if len(resp.TrackResponse.Shipment) == 0 {
		return shipping.Tracking{}, errs.NotFoundf("ups: no tracking information for %s", trackingNumber)
	}
	sh := resp.TrackResponse.Shipment[0]
	if len(sh.Package) == 0 {
		msg := "no tracking information"
		for _, w := range sh.Warnings {
			msg = w.Message
		}
		return shipping.Tracking{}, errs.NotFoundf("ups: %s: %s", trackingNumber, msg)
	}
	pkg := sh.Package[0]
	t := shipping.Tracking{TrackingNumber: trackingNumber}
	for _, a := range pkg.Activity {
		t.Events = append(t.Events, shipping.TrackingEvent{
			Time: a.time(), Status: statusOf(a.Status), Description: a.Status.Description, Location: a.Location.Address.String(),
		})
	}
	slices.SortStableFunc(t.Events, func(a, b shipping.TrackingEvent) int { return a.Time.Compare(b.Time) })
	if n := len(t.Events); n > 0 {
		t.Status = t.Events[n-1].Status
	}
	for _, d := range pkg.DeliveryDate {
		if d.Type == "SDD" || d.Type == "RDD" {
			if when, err := time.Parse("20060102", d.Date); err == nil {
				t.EstimatedDelivery = when
			}
		}
	}
	return t, nil
}

// statusOf maps UPS's activity status type (and, for out for delivery,
// its words) to ours.
func statusOf(s ActivityStatus) shipping.TrackingStatus {
	if strings.Contains(strings.ToLower(s.Description), "out for delivery") {
		return shipping.TrackingOutForDelivery
	}
	switch s.Type {
	case "M", "MV":
		return shipping.TrackingLabelCreated
	case "P", "I", "W", "DO", "DD":
		return shipping.TrackingInTransit
	case "O":
		return shipping.TrackingOutForDelivery
	case "D":
		return shipping.TrackingDelivered
	case "X":
		return shipping.TrackingException
	case "RS":
		return shipping.TrackingReturned
	}
	return shipping.TrackingUnknown
}

// transHeader is the per-request transaction id and source UPS asks for.
func (c *Carrier) transHeader() http.Header {
	return http.Header{
		"Transid":        {strings.ReplaceAll(uuid.NewString(), "-", "")}, // at most 32 characters
		"Transactionsrc": {"emporium"},
	}
}

func (c *Carrier) address(a *typev1.PostalAddress) Address {
	var lines []string
	for _, l := range []string{a.GetLine1(), a.GetLine2()} {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, truncate(l, 35))
		}
	}
	return Address{AddressLine: lines, City: truncate(a.GetCity(), 30), StateProvinceCode: a.GetRegion(),
		PostalCode: a.GetPostalCode(), CountryCode: a.GetCountry()}
}

// pkg describes one customer-packed parcel, in pounds and inches from a US
// origin and kilograms and centimetres elsewhere, rounded up to a tenth.
func (c *Carrier) pkg(grams, lengthMM, widthMM, heightMM int64, ref string) Package {
	weight, wUnit, dUnit, perMM := float64(grams)/1000, "KGS", "CM", 0.1
	if c.imp {
		weight, wUnit, dUnit, perMM = float64(grams)/453.59237, "LBS", "IN", 1/25.4
	}
	p := Package{
		Packaging:     &Code{Code: "02", Description: "Customer Supplied Package"},
		PackagingType: &Code{Code: "02", Description: "Customer Supplied Package"},
		PackageWeight: Weight{UnitOfMeasurement: Code{Code: wUnit}, Weight: tenths(weight)},
	}
	if lengthMM > 0 && widthMM > 0 && heightMM > 0 {
		p.Dimensions = &Dimensions{UnitOfMeasurement: Code{Code: dUnit},
			Length: tenths(float64(lengthMM) * perMM), Width: tenths(float64(widthMM) * perMM), Height: tenths(float64(heightMM) * perMM)}
	}
	if ref != "" {
		p.ReferenceNumber = []Reference{{Value: ref}}
	}
	return p
}

// tenths formats v rounded up to a tenth, at least 0.1.
func tenths(v float64) string {
	return fmt.Sprintf("%.1f", max(math.Ceil(v*10-1e-9)/10, 0.1))
}

func truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

func orName(a *typev1.PostalAddress) string {
	if a.GetCompany() != "" {
		return a.GetCompany()
	}
	return a.GetName()
}

func phone(a *typev1.PostalAddress) *Phone {
	if a.GetPhone() == "" {
		return nil
	}
	return &Phone{Number: a.GetPhone()}
}

// parseErrors reads UPS's error body:
// {"response":{"errors":[{"code":"120802","message":"..."}]}}.
func parseErrors(body []byte) []carrierhttp.Detail {
	var b struct {
		Response struct {
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil
	}
	out := make([]carrierhttp.Detail, 0, len(b.Response.Errors))
	for _, e := range b.Response.Errors {
		out = append(out, carrierhttp.Detail{Code: e.Code, Message: e.Message})
	}
	return out
}

// OneOrMany is a UPS list: UPS sends a lone element as an object and
// several as an array.
type OneOrMany[T any] []T

func (o *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]T)(o))
	}
	if bytes.Equal(b, []byte("null")) {
		*o = nil
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = OneOrMany[T]{one}
	return nil
}

// Adapter lets the shipping module make UPS from --carriers=ups and the
// --ups-* flags.
var Adapter = shipping.CarrierAdapter{
	Name: "ups", Label: "UPS", Site: "developer.ups.com", DefaultBaseURL: ProductionURL,
	AccountHelp: "the 6-character UPS shipper number labels are billed to",
	New: func(a shipping.CarrierAccount, shipper *typev1.PostalAddress, currency string) (shipping.LabelCarrier, error) {
		return New(Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, AccountNumber: a.Number,
			Shipper: shipper, Currency: currency, BaseURL: a.BaseURL})
	},
}
