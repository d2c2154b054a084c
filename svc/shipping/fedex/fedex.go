// Package fedex is the FedEx carrier on FedEx's REST APIs
// (developer.fedex.com): OAuth client credentials, Rate (quotes), Ship
// (create and cancel shipments, PDF labels on 4×6 paper) and Track.
package fedex

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/carrierhttp"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf"
)

// Base URLs of FedEx's APIs.
const (
	ProductionURL = "https://apis.fedex.com"
	SandboxURL    = "https://apis-sandbox.fedex.com"
)

// Config configures the FedEx carrier.
type Config struct {
	// ClientID and ClientSecret are the project's API key and secret key at
	// developer.fedex.com.
	ClientID, ClientSecret string
	// AccountNumber is the FedEx account (9 digits) billed for labels.
	AccountNumber string
	// Shipper is the shop's address, the origin of rates and the shipper on
	// labels. FedEx requires a phone number; it is also given for
	// recipients who have none.
	Shipper *typev1.PostalAddress
	// Currency is the shop currency; rates FedEx gives in another are dropped.
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
	return fmt.Sprintf("fedex.Config{ClientID: %q, ClientSecret: [redacted], AccountNumber: %q, BaseURL: %q}",
		cfg.ClientID, cfg.AccountNumber, cfg.BaseURL)
}

// Carrier is FedEx. It is safe for concurrent use.
type Carrier struct {
	cfg  Config
	http *carrierhttp.Client
	imp  bool // pounds and inches (US and Puerto Rico origins)
}

var _ shipping.LabelCarrier = (*Carrier)(nil)

// New checks cfg and returns the FedEx carrier.
func New(cfg Config) (*Carrier, error) {
	var shipper []string
	if cfg.Shipper.GetCountry() == "" || cfg.Shipper.GetPostalCode() == "" || cfg.Shipper.GetPhone() == "" {
		shipper = append(shipper, "shipper address (with country, postal code and phone)")
	}
	err := carrierhttp.CheckConfig("fedex", map[string]string{
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
		Carrier: "fedex", BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient,
		MaxAttempts: cfg.MaxAttempts, Backoff: cfg.Backoff, ParseErrors: parseErrors,
		OAuth: &carrierhttp.OAuth{TokenPath: "/oauth/token", ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			CredentialsInBody: true, Now: cfg.Now},
	})
	if err != nil {
		return nil, err
	}
	return &Carrier{cfg: cfg, http: hc, imp: carrierhttp.Imperial(cfg.Shipper.GetCountry())}, nil
}

// Name implements shipping.Carrier.
func (*Carrier) Name() string { return "fedex" }

type service struct {
	typ, id, name    string
	minDays, maxDays int32
}

var services = []service{
	{"FEDEX_GROUND", "ground", "FedEx Ground", 1, 5},
	{"GROUND_HOME_DELIVERY", "home-delivery", "FedEx Home Delivery", 1, 5},
	{"FEDEX_EXPRESS_SAVER", "express-saver", "FedEx Express Saver", 3, 3},
	{"FEDEX_2_DAY", "2-day", "FedEx 2Day", 2, 2},
	{"FEDEX_2_DAY_AM", "2-day-am", "FedEx 2Day A.M.", 2, 2},
	{"STANDARD_OVERNIGHT", "standard-overnight", "FedEx Standard Overnight", 1, 1},
	{"PRIORITY_OVERNIGHT", "priority-overnight", "FedEx Priority Overnight", 1, 1},
	{"FIRST_OVERNIGHT", "first-overnight", "FedEx First Overnight", 1, 1},
	{"INTERNATIONAL_ECONOMY", "international-economy", "FedEx International Economy", 2, 5},
	{"FEDEX_INTERNATIONAL_PRIORITY", "international-priority", "FedEx International Priority", 1, 3},
}

func serviceBy(match func(service) bool) (service, bool) {
	i := slices.IndexFunc(services, match)
	if i < 0 {
		return service{}, false
	}
	return services[i], true
}

// Error codes FedEx answers that the adapter treats specially. The
// tracking one is FedEx's; the other two are not confirmed against FedEx's
// documentation and must be checked in the sandbox before production: if
// FedEx sends others, "no service" surfaces as errs.Invalid and "already
// cancelled" as errs.FailedPrecondition instead.
const (
	codeNoService        = "RATE.LOCATION.NOSERVICE"
	codeAlreadyCancelled = "SHIPMENT.CANCEL.ALREADYCANCELLED"
	codeTrackingNotFound = "TRACKING.TRACKINGNUMBER.NOTFOUND"
)

// Quote implements shipping.Carrier with the Rate API.
func (c *Carrier) Quote(ctx context.Context, p shipping.Parcel) ([]shipping.Rate, error) {
	if p.WeightGrams <= 0 || p.WeightGrams > shipping.MaxWeightGrams {
		return nil, errs.Invalidf("weight_grams: %d is not between 1 and %d", p.WeightGrams, shipping.MaxWeightGrams)
	}
	dest := p.Destination
	body := RateRequest{
		AccountNumber: Account{Value: c.cfg.AccountNumber},
		RequestedShipment: RateShipment{
			Shipper:                   Party{Address: c.address(c.cfg.Shipper)},
			Recipient:                 Party{Address: Address{StateOrProvinceCode: dest.GetRegion(), PostalCode: dest.GetPostalCode(), CountryCode: dest.GetCountry()}},
			PickupType:                "DROPOFF_AT_FEDEX_LOCATION",
			RateRequestType:           []string{"ACCOUNT", "LIST"},
			RequestedPackageLineItems: []PackageLineItem{c.item(p.WeightGrams, 0, 0, 0, "")},
		},
	}
	var resp struct {
		Output struct {
			RateReplyDetails []struct {
				ServiceType          string `json:"serviceType"`
				ServiceName          string `json:"serviceName"`
				RatedShipmentDetails []struct {
					RateType       string      `json:"rateType"`
					TotalNetCharge json.Number `json:"totalNetCharge"`
					Currency       string      `json:"currency"`
				} `json:"ratedShipmentDetails"`
			} `json:"rateReplyDetails"`
		} `json:"output"`
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "rate", Method: http.MethodPost, Path: "/rate/v1/rates/quotes",
		Header: locale(), JSON: body, Idempotent: true}, &resp)
	if apiErr, ok := carrierhttp.AsAPIError(err); ok && apiErr.HasCode(codeNoService) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rates []shipping.Rate
	for _, d := range resp.Output.RateReplyDetails {
		svc, ok := serviceBy(func(s service) bool { return s.typ == d.ServiceType })
		if !ok {
			continue
		}
		// The account's negotiated rate is what we pay; the list rate when
		// there is none.
		best := -1
		for i, r := range d.RatedShipmentDetails {
			if !strings.EqualFold(r.Currency, c.cfg.Currency) {
				continue
			}
			if best < 0 || r.RateType == "ACCOUNT" {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		price, err := money.Parse(d.RatedShipmentDetails[best].TotalNetCharge.String(), c.cfg.Currency)
		if err != nil {
			return nil, errs.Unavailablef("fedex: rate: %s: %v", svc.name, err)
		}
		rates = append(rates, shipping.Rate{Service: svc.id, Name: svc.name, Price: price, MinDays: svc.minDays, MaxDays: svc.maxDays})
	}
	return rates, nil
}

// CreateLabel implements shipping.LabelCarrier with the Ship API, asking
// for a PDF label on 4×6 paper. FedEx has no idempotency key for shipments:
// a request whose answer is lost is not resent (see carrierhttp) and the
// error says so.
func (c *Carrier) CreateLabel(ctx context.Context, req shipping.LabelRequest) (shipping.Label, error) {
	svc, ok := serviceBy(func(s service) bool { return s.id == req.Service })
	if !ok {
		return shipping.Label{}, errs.Invalidf("service: FedEx has no service %q", req.Service)
	}
	if req.From == nil || req.To == nil {
		return shipping.Label{}, errs.Invalidf("from and to: both addresses are required")
	}
	body := ShipRequest{
		LabelResponseOptions: "LABEL",
		AccountNumber:        Account{Value: c.cfg.AccountNumber},
		RequestedShipment: Shipment{
			Shipper:                c.party(req.From),
			Recipients:             []Party{c.party(req.To)},
			ShipDatestamp:          c.cfg.Now().Format(time.DateOnly),
			ServiceType:            svc.typ,
			PackagingType:          "YOUR_PACKAGING",
			PickupType:             "USE_SCHEDULED_PICKUP",
			ShippingChargesPayment: Payment{PaymentType: "SENDER"},
			LabelSpecification:     LabelSpecification{ImageType: "PDF", LabelStockType: "PAPER_4X6"},
			RequestedPackageLineItems: []PackageLineItem{
				c.item(req.WeightGrams, req.LengthMM, req.WidthMM, req.HeightMM, req.Reference)},
		},
	}
	var resp struct {
		Output struct {
			TransactionShipments []struct {
				MasterTrackingNumber string `json:"masterTrackingNumber"`
				PieceResponses       []struct {
					TrackingNumber   string `json:"trackingNumber"`
					PackageDocuments []struct {
						ContentType  string `json:"contentType"`
						DocType      string `json:"docType"`
						EncodedLabel string `json:"encodedLabel"`
					} `json:"packageDocuments"`
				} `json:"pieceResponses"`
				CompletedShipmentDetail struct {
					ShipmentRating struct {
						ShipmentRateDetails []struct {
							TotalNetCharge json.Number `json:"totalNetCharge"`
							Currency       string      `json:"currency"`
						} `json:"shipmentRateDetails"`
					} `json:"shipmentRating"`
				} `json:"completedShipmentDetail"`
			} `json:"transactionShipments"`
		} `json:"output"`
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "create label", Method: http.MethodPost, Path: "/ship/v1/shipments",
		Header: locale(), JSON: body}, &resp)
	if err != nil {
		return shipping.Label{}, err
	}
	if len(resp.Output.TransactionShipments) == 0 || resp.Output.TransactionShipments[0].MasterTrackingNumber == "" {
		return shipping.Label{}, errs.Unavailablef("fedex: create label: the answer has no tracking number")
	}
	ts := resp.Output.TransactionShipments[0]
	l := shipping.Label{TrackingNumber: ts.MasterTrackingNumber}
	for _, piece := range ts.PieceResponses {
		for _, doc := range piece.PackageDocuments {
			if doc.EncodedLabel != "" && l.PDF == nil {
				pdf, err := base64.StdEncoding.DecodeString(doc.EncodedLabel)
				if err != nil || !labelpdf.IsPDF(pdf) {
					return shipping.Label{}, errs.Unavailablef("fedex: create label: shipment %s was bought but its label is not a PDF; reprint it at FedEx", l.TrackingNumber)
				}
				l.PDF = pdf
			}
		}
	}
	if l.PDF == nil {
		return shipping.Label{}, errs.Unavailablef("fedex: create label: shipment %s was bought but the answer has no label; reprint it at FedEx", l.TrackingNumber)
	}
	if rd := ts.CompletedShipmentDetail.ShipmentRating.ShipmentRateDetails; len(rd) > 0 && rd[0].TotalNetCharge != "" {
		if l.Cost, err = money.Parse(rd[0].TotalNetCharge.String(), rd[0].Currency); err != nil {
			return shipping.Label{}, errs.Unavailablef("fedex: create label: shipment %s: cost: %v", l.TrackingNumber, err)
		}
		l.Currency = strings.ToUpper(rd[0].Currency)
	}
	return l, nil
}

// Void implements shipping.LabelCarrier with the Ship API's cancel. A
// shipment FedEx will no longer cancel is errs.FailedPrecondition with
// FedEx's reason.
func (c *Carrier) Void(ctx context.Context, l shipping.Label) error {
	if l.TrackingNumber == "" {
		return errs.Invalidf("label: no tracking number to cancel")
	}
	var resp struct {
		Output struct {
			CancelledShipment bool   `json:"cancelledShipment"`
			Message           string `json:"message"`
		} `json:"output"`
	}
	err := c.http.Do(ctx, carrierhttp.Request{Op: "void label", Method: http.MethodPut, Path: "/ship/v1/shipments/cancel",
		Header: locale(), Idempotent: true, JSON: CancelRequest{
			AccountNumber: Account{Value: c.cfg.AccountNumber}, SenderCountryCode: c.cfg.Shipper.GetCountry(),
			DeletionControl: "DELETE_ALL_PACKAGES", TrackingNumber: l.TrackingNumber,
		}}, &resp)
	apiErr, isAPI := carrierhttp.AsAPIError(err)
	switch {
	case err == nil && !resp.Output.CancelledShipment:
		return errs.FailedPreconditionf("fedex: the label cannot be voided: %s", resp.Output.Message)
	case err == nil:
		return nil
	case isAPI && apiErr.HasCode(codeAlreadyCancelled):
		return nil
	case isAPI && errs.Is(err, errs.Invalid):
		return &errs.Error{Kind: errs.FailedPrecondition, Err: err, Message: "fedex: the label cannot be voided: " + apiErr.DetailText()}
	}
	return err
}

// Track implements shipping.LabelCarrier with the Track API.
func (c *Carrier) Track(ctx context.Context, trackingNumber string) (shipping.Tracking, error) {
	if strings.TrimSpace(trackingNumber) == "" {
		return shipping.Tracking{}, errs.Invalidf("tracking number is empty")
	}
	var resp TrackResponse
	err := c.http.Do(ctx, carrierhttp.Request{Op: "track", Method: http.MethodPost, Path: "/track/v1/trackingnumbers",
		Header: locale(), Idempotent: true, JSON: TrackRequest{
			IncludeDetailedScans: true,
			TrackingInfo:         []TrackingInfo{{TrackingNumberInfo: TrackingNumberInfo{TrackingNumber: trackingNumber}}},
		}}, &resp)
	if err != nil {
		return shipping.Tracking{}, err
	}
	if len(resp.Output.CompleteTrackResults) == 0 || len(resp.Output.CompleteTrackResults[0].TrackResults) == 0 {
		return shipping.Tracking{}, errs.NotFoundf("fedex: no tracking information for %s", trackingNumber)
	}
	r := resp.Output.CompleteTrackResults[0].TrackResults[0]
	if r.Error != nil && r.Error.Code != "" {
		if r.Error.Code == codeTrackingNotFound {
			return shipping.Tracking{}, errs.NotFoundf("fedex: %s: %s", trackingNumber, r.Error.Message)
		}
		return shipping.Tracking{}, errs.Unavailablef("fedex: track %s: %s [%s]", trackingNumber, r.Error.Message, r.Error.Code)
	}
	t := shipping.Tracking{TrackingNumber: trackingNumber, Status: statusOf(r.LatestStatusDetail.DerivedCode, r.LatestStatusDetail.Code)}
	for _, e := range r.ScanEvents {
		when, err := time.Parse(time.RFC3339, e.Date)
		if err != nil {
			continue // FedEx sends well-formed dates; one that is not cannot be ordered
		}
		t.Events = append(t.Events, shipping.TrackingEvent{
			Time: when.UTC(), Status: statusOf(e.DerivedStatusCode, e.EventType), Description: e.EventDescription,
			Location: e.ScanLocation.String(),
		})
	}
	slices.SortStableFunc(t.Events, func(a, b shipping.TrackingEvent) int { return a.Time.Compare(b.Time) })
	if t.Status == shipping.TrackingUnknown && len(t.Events) > 0 {
		t.Status = t.Events[len(t.Events)-1].Status
	}
	for _, d := range r.DateAndTimes {
		if d.Type == "ESTIMATED_DELIVERY" {
			if when, err := time.Parse(time.RFC3339, d.DateTime); err == nil {
				t.EstimatedDelivery = when.UTC()
			}
		}
	}
	return t, nil
}

// statusOf maps FedEx's derived status code (or else its event type) to ours.
func statusOf(derived, code string) shipping.TrackingStatus {
	if derived == "" {
		derived = code
	}
	switch derived {
	case "OC", "LC": // order created, label created
		return shipping.TrackingLabelCreated
	case "PU", "IT", "AR", "DP", "AF", "IN", "PM", "CC", "FD":
		return shipping.TrackingInTransit
	case "OD":
		return shipping.TrackingOutForDelivery
	case "DL":
		return shipping.TrackingDelivered
	case "DE", "SE", "CD", "DY", "HL":
		return shipping.TrackingException
	case "RS":
		return shipping.TrackingReturned
	}
	return shipping.TrackingUnknown
}

func locale() http.Header { return http.Header{"X-Locale": {"en_US"}} }

func (c *Carrier) address(a *typev1.PostalAddress) Address {
	var lines []string
	for _, l := range []string{a.GetLine1(), a.GetLine2()} {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return Address{StreetLines: lines, City: a.GetCity(), StateOrProvinceCode: a.GetRegion(), PostalCode: a.GetPostalCode(), CountryCode: a.GetCountry()}
}

func (c *Carrier) party(a *typev1.PostalAddress) Party {
	phone := a.GetPhone()
	if phone == "" {
		phone = c.cfg.Shipper.GetPhone()
	}
	return Party{Contact: &Contact{PersonName: a.GetName(), CompanyName: a.GetCompany(), PhoneNumber: phone}, Address: c.address(a)}
}

// item is one package, in pounds and inches from a US origin and kilograms
// and centimetres elsewhere; weights are rounded up to a tenth, lengths up
// to a whole unit.
func (c *Carrier) item(grams, lengthMM, widthMM, heightMM int64, ref string) PackageLineItem {
	weight, wUnit, dUnit, perMM := float64(grams)/1000, "KG", "CM", 0.1
	if c.imp {
		weight, wUnit, dUnit, perMM = float64(grams)/453.59237, "LB", "IN", 1/25.4
	}
	it := PackageLineItem{Weight: Weight{Units: wUnit, Value: max(math.Ceil(weight*10-1e-9)/10, 0.1)}}
	if lengthMM > 0 && widthMM > 0 && heightMM > 0 {
		up := func(mm int64) int64 { return int64(math.Ceil(float64(mm)*perMM - 1e-9)) }
		it.Dimensions = &Dimensions{Length: up(lengthMM), Width: up(widthMM), Height: up(heightMM), Units: dUnit}
	}
	if ref != "" {
		it.CustomerReferences = []CustomerReference{{CustomerReferenceType: "CUSTOMER_REFERENCE", Value: ref}}
	}
	return it
}

// parseErrors reads FedEx's error body:
// {"transactionId":"…","errors":[{"code":"…","message":"…"}]}.
func parseErrors(body []byte) []carrierhttp.Detail {
	var b struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil
	}
	out := make([]carrierhttp.Detail, 0, len(b.Errors))
	for _, e := range b.Errors {
		out = append(out, carrierhttp.Detail{Code: e.Code, Message: e.Message})
	}
	return out
}

// Adapter lets the shipping module make FedEx from --carriers=fedex and the
// --fedex-* flags.
var Adapter = shipping.CarrierAdapter{
	Name: "fedex", Label: "FedEx", Site: "developer.fedex.com", DefaultBaseURL: ProductionURL,
	AccountHelp: "the 9-digit FedEx account labels are billed to",
	New: func(a shipping.CarrierAccount, shipper *typev1.PostalAddress, currency string) (shipping.LabelCarrier, error) {
		return New(Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, AccountNumber: a.Number,
			Shipper: shipper, Currency: currency, BaseURL: a.BaseURL})
	},
}
