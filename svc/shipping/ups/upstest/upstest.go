// Package upstest is a fake of UPS's REST APIs for tests: OAuth, Rating
// (Shop), Shipping (ship, void) and Tracking on a real loopback HTTP server,
// speaking UPS's JSON shapes and error bodies. It checks what a real UPS
// would refuse (credentials, bearer tokens, transaction headers, required
// fields, US ZIP codes), keeps the shipments it sells so void and track
// work, and lets a test expire tokens, inject failures and scan parcels.
//
// It reads requests as plain JSON maps by UPS's field names, independently
// of the adapter's Go types, so a misnamed field fails the test.
package upstest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/shipping/internal/carrierfake"
)

// Server is a running fake.
type Server struct {
	URL                             string
	ClientID, ClientSecret, Account string

	// Gate issues and checks tokens, counts calls and injects failures:
	// FailNext, RevokeTokens, TokenFetches and Calls are its.
	*carrierfake.Gate

	now           func() time.Time
	tokenLifetime time.Duration

	mu         sync.Mutex
	shipments  map[string]*shipment
	nextSerial int
	subs       map[string]subscription // tracking number → Track Alert subscriber
}

// subscription is where Track Alert pushes a parcel's scans.
type subscription struct{ url, credential string }

type shipment struct {
	id, tracking, service string
	reference             string // the shipper's CustomerContext
	voided                bool
	activity              []map[string]any // newest first, as UPS sends them
}

// Options configures Start.
type Options struct {
	// Now is the fake's clock for token expiry and scans; time.Now when nil.
	Now func() time.Time
	// TokenLifetime is the expires_in of issued tokens (4 h, as UPS, when 0).
	TokenLifetime time.Duration
}

// Start runs the fake for the test's lifetime.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{ClientID: "ups-client", ClientSecret: "ups-secret", Account: "A1B2C3",
		now: o.Now, tokenLifetime: o.TokenLifetime,
		shipments: map[string]*shipment{}, subs: map[string]subscription{}}
	if s.now == nil {
		s.now = time.Now
	}
	s.Gate = carrierfake.NewGate(s.now)
	if s.tokenLifetime == 0 {
		s.tokenLifetime = 4 * time.Hour
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Scan records a scan of the parcel: "pickup", "out-for-delivery" or
// "delivered".
func (s *Server) Scan(trackingNumber, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sh := range s.shipments {
		if sh.tracking != trackingNumber {
			continue
		}
		scan, ok := scans[what]
		if !ok {
			panic("upstest: unknown scan " + what)
		}
		sh.activity = append([]map[string]any{s.activity(scan[0], scan[1], "Louisville", "KY")}, sh.activity...)
	}
}

// Label is a label the fake sold: UPS bills the shipper for each one not
// voided.
type Label struct {
	TrackingNumber string
	Reference      string // the request's CustomerContext
	Voided         bool
}

// Labels are the labels sold so far, in no particular order.
func (s *Server) Labels() []Label {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Label, 0, len(s.shipments))
	for _, sh := range s.shipments {
		out = append(out, Label{TrackingNumber: sh.tracking, Reference: sh.reference, Voided: sh.voided})
	}
	return out
}

var alertNumber = regexp.MustCompile(`^1Z[0-9A-Z]{16}$`)

// subscribe is Track Alert's subscription: the parcels it knows are pushed
// to the destination from now on.
func (s *Server) subscribe(w http.ResponseWriter, body map[string]any) {
	dest := subscription{url: str(body, "destination.url"), credential: str(body, "destination.credential")}
	list, _ := body["trackingNumberList"].([]any)
	switch {
	case str(body, "locale") == "":
		upsError(w, http.StatusBadRequest, "VSS300", "Locale is required. The Subscription request has been rejected.")
		return
	case dest.url == "":
		upsError(w, http.StatusBadRequest, "VSS600", "URL is empty or not present. The Subscription request has been rejected.")
		return
	case dest.credential == "":
		upsError(w, http.StatusBadRequest, "VSS700", "Credential is empty or not present. The Subscription request has been rejected.")
		return
	case len(list) == 0:
		upsError(w, http.StatusBadRequest, "VSS200", "Tracking Number List is required. The Subscription request has been rejected.")
		return
	case len(list) > 100:
		upsError(w, http.StatusBadRequest, "VSS220", "You have submitted over 100 1Z numbers which is not allowed.")
		return
	}
	valid, invalid := []string{}, []string{}
	for _, v := range list {
		n, _ := v.(string)
		if !alertNumber.MatchString(n) || s.byTracking(n) == nil {
			invalid = append(invalid, n)
			continue
		}
		s.subs[n] = dest
		valid = append(valid, n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"validTrackingNumbers": valid, "invalidTrackingNumbers": invalid})
}

func (s *Server) byTracking(number string) *shipment {
	for _, sh := range s.shipments {
		if sh.tracking == number {
			return sh
		}
	}
	return nil
}

// Push sends the parcel's newest scan to its Track Alert subscriber, as
// UPS does, and returns the status the subscriber answered.
func (s *Server) Push(trackingNumber string) (int, error) {
	s.mu.Lock()
	sh, dest := s.byTracking(trackingNumber), s.subs[trackingNumber]
	if sh == nil || dest.url == "" || len(sh.activity) == 0 {
		s.mu.Unlock()
		return 0, fmt.Errorf("upstest: %s is not subscribed or has no scan", trackingNumber)
	}
	a := sh.activity[0]
	s.mu.Unlock()
	gmt, _ := time.Parse("15:04:05", str(a, "gmtTime"))
	msg := map[string]any{
		"trackingNumber": trackingNumber, "localActivityDate": str(a, "date"), "localActivityTime": str(a, "time"),
		"gmtActivityDate": str(a, "gmtDate"), "gmtActivityTime": gmt.Format("150405"),
		"activityLocation": map[string]string{"city": str(a, "location.address.city"),
			"stateProvince": str(a, "location.address.stateProvince"), "postalCode": "", "country": "US"},
		"activityStatus": map[string]string{"type": str(a, "status.type"), "code": str(a, "status.code"),
			"description": str(a, "status.description"), "descriptionCode": "011"},
		"scheduledDeliveryDate": "", "actualDeliveryDate": "", "actualDeliveryTime": "",
	}
	b, _ := json.Marshal(msg)
	req, err := http.NewRequest(http.MethodPost, dest.url, strings.NewReader(string(b)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("credential", dest.credential)
	req.Header.Set("User-Agent", "UPSPubSubTrackingService")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// scans are UPS's activity type and words for each Scan.
var scans = map[string][2]string{
	"pickup":           {"P", "Pickup Scan"},
	"out-for-delivery": {"I", "Out For Delivery Today"},
	"delivered":        {"D", "DELIVERED"},
}

func (s *Server) activity(typ, desc, city, state string) map[string]any {
	now := s.now().UTC()
	local := now.Add(-5 * time.Hour)
	return map[string]any{
		"location": map[string]any{"address": map[string]any{"city": city, "stateProvince": state, "countryCode": "US", "country": "US"}},
		"status":   map[string]any{"type": typ, "description": desc, "code": "XX", "statusCode": "000"},
		"date":     local.Format("20060102"), "time": local.Format("150405"),
		"gmtDate": now.Format("20060102"), "gmtTime": now.Format("15:04:05"), "gmtOffset": "-05:00",
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// upsError writes UPS's error body.
func upsError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"response": map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}}})
}

var (
	shipPath  = regexp.MustCompile(`^/api/shipments/v\d+/ship$`)
	voidPath  = regexp.MustCompile(`^/api/shipments/v\d+/void/cancel/([^/]+)$`)
	ratePath  = regexp.MustCompile(`^/api/rating/v\d+/(Rate|Shop)$`)
	trackPath = regexp.MustCompile(`^/api/track/v1/details/([^/]+)$`)
	usZIP     = regexp.MustCompile(`^\d{5}(-\d{4})?$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/security/v1/oauth/token" {
		s.token(w, r)
		return
	}
	if !s.Authorized(r) {
		upsError(w, http.StatusUnauthorized, "250002", "Invalid Authentication Information.")
		return
	}
	if id := r.Header.Get("transId"); id == "" || len(id) > 32 || r.Header.Get("transactionSrc") == "" {
		upsError(w, http.StatusBadRequest, "VSS000", "Missing or invalid transId / transactionSrc header")
		return
	}
	if status := s.Failure(); status != 0 {
		upsError(w, status, "SVC500", "Service temporarily unavailable")
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		if r.Header.Get("Content-Type") != "application/json" {
			upsError(w, http.StatusBadRequest, "VSS100", "Content-Type must be application/json")
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			upsError(w, http.StatusBadRequest, "VSS101", "Invalid JSON: "+err.Error())
			return
		}
	}
	switch {
	case r.Method == http.MethodPost && ratePath.MatchString(r.URL.Path):
		s.rate(w, body)
	case r.Method == http.MethodPost && shipPath.MatchString(r.URL.Path):
		s.ship(w, body)
	case r.Method == http.MethodDelete && voidPath.MatchString(r.URL.Path):
		s.void(w, voidPath.FindStringSubmatch(r.URL.Path)[1])
	case r.Method == http.MethodPost && r.URL.Path == "/api/track/v1/subscription/standard/package":
		s.subscribe(w, body)
	case r.Method == http.MethodGet && trackPath.MatchString(r.URL.Path):
		s.track(w, trackPath.FindStringSubmatch(r.URL.Path)[1])
	default:
		upsError(w, http.StatusNotFound, "VSS404", "Resource not found")
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		upsError(w, http.StatusBadRequest, "10400", "Invalid/Missing grant_type")
		return
	}
	if !ok || id != s.ClientID || secret != s.ClientSecret {
		upsError(w, http.StatusUnauthorized, "10401", "ClientId is Invalid")
		return
	}
	tok := s.IssueToken("ups-token", s.now().Add(s.tokenLifetime))
	writeJSON(w, http.StatusOK, map[string]string{
		"token_type": "Bearer", "issued_at": strconv.FormatInt(s.now().UnixMilli(), 10), "client_id": id,
		"access_token": tok, "expires_in": strconv.Itoa(int(s.tokenLifetime.Seconds())), "status": "approved",
	})
}

// get reads a dotted path of UPS field names from a decoded body; a list
// element is read at index 0.
func get(m any, path string) any {
	for _, k := range strings.Split(path, ".") {
		if l, ok := m.([]any); ok && len(l) > 0 {
			m = l[0]
		}
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func str(m any, path string) string {
	v, _ := get(m, path).(string)
	return v
}

// checkParty refuses a party without what UPS requires, with UPS's codes.
func checkParty(w http.ResponseWriter, body any, path, label, code string) bool {
	country, zip := str(body, path+".Address.CountryCode"), str(body, path+".Address.PostalCode")
	if country == "" {
		upsError(w, http.StatusBadRequest, "120100", "Missing "+label+" country code")
		return false
	}
	if country == "US" && !usZIP.MatchString(zip) {
		upsError(w, http.StatusBadRequest, code, "Address Validation Error on "+label+" address")
		return false
	}
	return true
}

func checkPackage(w http.ResponseWriter, body any, path string) (float64, bool) {
	unit, weight := str(body, path+".PackageWeight.UnitOfMeasurement.Code"), str(body, path+".PackageWeight.Weight")
	v, err := strconv.ParseFloat(weight, 64)
	if (unit != "LBS" && unit != "KGS") || err != nil || v <= 0 {
		upsError(w, http.StatusBadRequest, "111035", "Invalid package weight "+weight+" "+unit)
		return 0, false
	}
	if unit == "KGS" {
		v *= 2.20462
	}
	return v, true
}

var domestic = []struct{ code, base, perLb string }{{"03", "9.50", "0.80"}, {"12", "14.10", "1.20"}, {"02", "21.75", "2.10"}, {"01", "38.40", "3.30"}}
var international = []struct{ code, base, perLb string }{{"08", "48.00", "4.00"}, {"65", "61.25", "5.50"}, {"07", "74.90", "6.20"}}

func price(base, perLb string, lbs float64) string {
	b, _ := strconv.ParseFloat(base, 64)
	p, _ := strconv.ParseFloat(perLb, 64)
	return strconv.FormatFloat(b+p*float64(int(lbs+0.999)), 'f', 2, 64)
}

func (s *Server) rate(w http.ResponseWriter, body map[string]any) {
	rr := get(body, "RateRequest")
	if rr == nil {
		upsError(w, http.StatusBadRequest, "VSS102", "Missing RateRequest")
		return
	}
	if str(rr, "Shipment.Shipper.ShipperNumber") != s.Account {
		upsError(w, http.StatusBadRequest, "111057", "Shipper number is invalid")
		return
	}
	if !checkParty(w, rr, "Shipment.Shipper", "Shipper", "111286") || !checkParty(w, rr, "Shipment.ShipTo", "ShipTo", "111285") {
		return
	}
	lbs, ok := checkPackage(w, rr, "Shipment.Package")
	if !ok {
		return
	}
	to := str(rr, "Shipment.ShipTo.Address.CountryCode")
	if to == "AQ" {
		upsError(w, http.StatusBadRequest, "111210", "The requested service is unavailable between the selected locations.")
		return
	}
	table := domestic
	if to != str(rr, "Shipment.Shipper.Address.CountryCode") {
		table = international
	}
	var rated []map[string]any
	for _, svc := range table {
		rs := map[string]any{
			"Service":      map[string]string{"Code": svc.code, "Description": ""},
			"TotalCharges": map[string]string{"CurrencyCode": "USD", "MonetaryValue": price(svc.base, svc.perLb, lbs)},
		}
		if svc.code == "01" || svc.code == "02" {
			rs["GuaranteedDelivery"] = map[string]string{"BusinessDaysInTransit": map[string]string{"01": "1", "02": "2"}[svc.code]}
		}
		rated = append(rated, rs)
	}
	writeJSON(w, http.StatusOK, map[string]any{"RateResponse": map[string]any{
		"Response":      map[string]any{"ResponseStatus": map[string]string{"Code": "1", "Description": "Success"}},
		"RatedShipment": rated,
	}})
}

func (s *Server) ship(w http.ResponseWriter, body map[string]any) {
	sr := get(body, "ShipmentRequest")
	if sr == nil {
		upsError(w, http.StatusBadRequest, "VSS102", "Missing ShipmentRequest")
		return
	}
	if str(sr, "Shipment.Shipper.ShipperNumber") != s.Account ||
		str(sr, "Shipment.PaymentInformation.ShipmentCharge.BillShipper.AccountNumber") != s.Account {
		upsError(w, http.StatusBadRequest, "120100", "Missing or invalid shipper number")
		return
	}
	lines, _ := get(sr, "Shipment.ShipTo.Address.AddressLine").([]any)
	if str(sr, "Shipment.ShipTo.Name") == "" || len(lines) == 0 ||
		str(sr, "Shipment.ShipTo.Address.City") == "" {
		upsError(w, http.StatusBadRequest, "120202", "Missing or invalid ship to name, address line or city")
		return
	}
	if !checkParty(w, sr, "Shipment.Shipper", "Shipper", "120801") || !checkParty(w, sr, "Shipment.ShipFrom", "ShipFrom", "120803") ||
		!checkParty(w, sr, "Shipment.ShipTo", "ShipTo", "120802") {
		return
	}
	lbs, ok := checkPackage(w, sr, "Shipment.Package")
	if !ok {
		return
	}
	code := str(sr, "Shipment.Service.Code")
	var base, perLb string
	for _, svc := range append(domestic, international...) {
		if svc.code == code {
			base, perLb = svc.base, svc.perLb
		}
	}
	if base == "" {
		upsError(w, http.StatusBadRequest, "120114", "Invalid service code "+code)
		return
	}
	format := str(sr, "LabelSpecification.LabelImageFormat.Code")
	if format != "GIF" {
		upsError(w, http.StatusBadRequest, "120415", "Invalid label image format "+format+" (GIF, PNG, ZPL, EPL, SPL)")
		return
	}
	s.nextSerial++
	tracking := fmt.Sprintf("1Z%s%s%08d", s.Account, code, s.nextSerial)
	sh := &shipment{id: tracking, tracking: tracking, service: code, reference: str(sr, "Request.TransactionReference.CustomerContext")}
	sh.activity = []map[string]any{s.activity("M", "Shipper created a label, UPS has not received the package yet.", "", "")}
	s.shipments[tracking] = sh
	total := map[string]string{"CurrencyCode": "USD", "MonetaryValue": price(base, perLb, lbs)}
	writeJSON(w, http.StatusOK, map[string]any{"ShipmentResponse": map[string]any{
		"Response": map[string]any{"ResponseStatus": map[string]string{"Code": "1", "Description": "Success"},
			"TransactionReference": map[string]string{"CustomerContext": str(sr, "Request.TransactionReference.CustomerContext")}},
		"ShipmentResults": map[string]any{
			"ShipmentCharges":              map[string]any{"TransportationCharges": total, "TotalCharges": total},
			"ShipmentIdentificationNumber": tracking,
			"PackageResults": []map[string]any{{
				"TrackingNumber": tracking,
				"ShippingLabel": map[string]any{
					"ImageFormat":  map[string]string{"Code": "GIF", "Description": "GIF"},
					"GraphicImage": labelGIF(),
				},
			}},
		},
	}})
}

// labelGIF is a landscape 1200×800 label image, as UPS sends, base64.
func labelGIF() string {
	img := image.NewPaletted(image.Rect(0, 0, 1200, 800), color.Palette{color.White, color.Black})
	for x := 100; x < 1100; x++ {
		if x%7 < 3 {
			for y := 500; y < 700; y++ {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var b bytes.Buffer
	_ = gif.Encode(&b, img, nil)
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func (s *Server) void(w http.ResponseWriter, id string) {
	sh, ok := s.shipments[id]
	switch {
	case !ok:
		upsError(w, http.StatusBadRequest, "190102", "No shipment found within the allowed void period")
	case sh.voided:
		upsError(w, http.StatusBadRequest, "190117", "The shipment has already been voided")
	case len(sh.activity) > 1: // scanned since the label
		upsError(w, http.StatusBadRequest, "190101", "The package has been picked up and can no longer be voided")
	default:
		sh.voided = true
		sh.activity = append([]map[string]any{s.activity("MV", "Shipper voided the label", "", "")}, sh.activity...)
		writeJSON(w, http.StatusOK, map[string]any{"VoidShipmentResponse": map[string]any{
			"Response":      map[string]any{"ResponseStatus": map[string]string{"Code": "1", "Description": "Success"}},
			"SummaryResult": map[string]any{"Status": map[string]string{"Code": "1", "Description": "Voided"}},
		}})
	}
}

func (s *Server) track(w http.ResponseWriter, number string) {
	var sh *shipment
	for _, x := range s.shipments {
		if x.tracking == number {
			sh = x
		}
	}
	if sh == nil {
		writeJSON(w, http.StatusOK, map[string]any{"trackResponse": map[string]any{"shipment": []map[string]any{{
			"inquiryNumber": number,
			"warnings":      []map[string]string{{"code": "TW0001", "message": "Tracking Information Not Found"}},
		}}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"trackResponse": map[string]any{"shipment": []map[string]any{{
		"inquiryNumber": number,
		"package": []map[string]any{{
			"trackingNumber": number,
			"deliveryDate":   []map[string]string{{"type": "SDD", "date": s.now().AddDate(0, 0, 3).Format("20060102")}},
			"activity":       sh.activity,
		}},
	}}}})
}
