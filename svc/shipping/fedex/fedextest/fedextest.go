// Package fedextest is a fake of FedEx's REST APIs for tests: OAuth, Rate,
// Ship (create, cancel) and Track on a real loopback HTTP server, speaking
// FedEx's JSON shapes and error bodies. It checks what a real FedEx would
// refuse (credentials, bearer tokens, required fields, US ZIP codes), keeps
// the shipments it sells so cancel and track work, and lets a test expire
// tokens, inject failures and scan parcels.
//
// It reads requests as plain JSON maps by FedEx's field names,
// independently of the adapter's Go types, so a misnamed field fails the
// test.
package fedextest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/shipping/internal/carrierfake"
	"github.com/emporiumhq/emporium/svc/shipping/internal/labelpdf"
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

	mu        sync.Mutex
	shipments map[string]*shipment
	serial    int
}

type shipment struct {
	tracking  string
	cancelled bool
	events    []map[string]any // newest first, as FedEx sends them
}

// Options configures Start.
type Options struct {
	// Now is the fake's clock; time.Now when nil.
	Now func() time.Time
	// TokenLifetime is the expires_in of issued tokens (1 h, as FedEx, when 0).
	TokenLifetime time.Duration
}

// Start runs the fake for the test's lifetime.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{ClientID: "fedex-key", ClientSecret: "fedex-secret", Account: "740561073",
		now: o.Now, tokenLifetime: o.TokenLifetime,
		shipments: map[string]*shipment{}}
	if s.now == nil {
		s.now = time.Now
	}
	s.Gate = carrierfake.NewGate(s.now)
	if s.tokenLifetime == 0 {
		s.tokenLifetime = time.Hour
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// scans are FedEx's event type and words for each Scan.
var scans = map[string][2]string{
	"pickup":           {"PU", "Picked up"},
	"out-for-delivery": {"OD", "On FedEx vehicle for delivery"},
	"delivered":        {"DL", "Delivered"},
}

// Scan records a scan of the parcel: "pickup", "out-for-delivery" or
// "delivered".
func (s *Server) Scan(trackingNumber, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := scans[what]
	if !ok {
		panic("fedextest: unknown scan " + what)
	}
	if sh := s.shipments[trackingNumber]; sh != nil {
		sh.events = append([]map[string]any{s.event(sc[0], sc[1], "MEMPHIS", "TN")}, sh.events...)
	}
}

func (s *Server) event(code, desc, city, state string) map[string]any {
	return map[string]any{
		"date":              s.now().In(time.FixedZone("CST", -6*3600)).Format(time.RFC3339),
		"eventType":         code,
		"eventDescription":  desc,
		"derivedStatusCode": code,
		"scanLocation":      map[string]any{"city": city, "stateOrProvinceCode": state, "countryCode": "US"},
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fedexError writes FedEx's error body.
func fedexError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"transactionId": "624deea6-b709-470c-8c39-4b5511281492",
		"errors": []map[string]string{{"code": code, "message": msg}}})
}

var usZIP = regexp.MustCompile(`^\d{5}(-\d{4})?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		s.token(w, r)
		return
	}
	if !s.Authorized(r) {
		fedexError(w, http.StatusUnauthorized, "NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again.")
		return
	}
	if status := s.Failure(); status != 0 {
		fedexError(w, status, "SERVICE.UNAVAILABLE.ERROR", "The service is currently unavailable and we are working to resolve the issue.")
		return
	}
	var body map[string]any
	if r.Header.Get("Content-Type") != "application/json" {
		fedexError(w, http.StatusBadRequest, "INVALID.INPUT.EXCEPTION", "Invalid field value in the input")
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fedexError(w, http.StatusBadRequest, "INVALID.INPUT.EXCEPTION", "Invalid JSON: "+err.Error())
		return
	}
	if str(body, "accountNumber.value") != s.Account && r.URL.Path != "/track/v1/trackingnumbers" {
		fedexError(w, http.StatusForbidden, "ACCOUNT.NUMBER.MISMATCH", "The account number does not match this project")
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "POST /rate/v1/rates/quotes":
		s.rate(w, body)
	case "POST /ship/v1/shipments":
		s.ship(w, body)
	case "PUT /ship/v1/shipments/cancel":
		s.cancel(w, body)
	case "POST /track/v1/trackingnumbers":
		s.track(w, body)
	default:
		fedexError(w, http.StatusNotFound, "NOT.FOUND.ERROR", "The resource you requested is no longer available.")
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		fedexError(w, http.StatusBadRequest, "BAD.REQUEST.ERROR", "The given client credentials were not valid.")
		return
	}
	if r.PostForm.Get("client_id") != s.ClientID || r.PostForm.Get("client_secret") != s.ClientSecret {
		fedexError(w, http.StatusUnauthorized, "NOT.AUTHORIZED.ERROR", "The given client credentials were not valid.")
		return
	}
	tok := s.IssueToken("fedex-token", s.now().Add(s.tokenLifetime))
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer",
		"expires_in": int(s.tokenLifetime.Seconds()), "scope": "CXS"})
}

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

func checkAddress(w http.ResponseWriter, body any, path, who string) bool {
	country, zip := str(body, path+".countryCode"), str(body, path+".postalCode")
	if country == "" {
		fedexError(w, http.StatusBadRequest, strings.ToUpper(who)+".COUNTRY.REQUIRED", "The "+who+" country code is required.")
		return false
	}
	if country == "US" && !usZIP.MatchString(zip) {
		fedexError(w, http.StatusBadRequest, strings.ToUpper(who)+".POSTALSTATE.MISMATCH",
			"The "+who+" postal code "+zip+" is not valid for the country or state.")
		return false
	}
	return true
}

// weightLB reads the first package's weight in pounds.
func weightLB(w http.ResponseWriter, body any, path string) (float64, bool) {
	units := str(body, path+".weight.units")
	v, ok := get(body, path+".weight.value").(float64)
	if (units != "LB" && units != "KG") || !ok || v <= 0 {
		fedexError(w, http.StatusBadRequest, "WEIGHT.VALUE.INVALID", "Please enter a valid package weight.")
		return 0, false
	}
	if units == "KG" {
		v *= 2.20462
	}
	return v, true
}

type fedexService struct {
	typ, name   string
	base, perLb float64
}

var domestic = []fedexService{{"FEDEX_GROUND", "FedEx Ground", 10.25, 0.85}, {"FEDEX_2_DAY", "FedEx 2Day", 22.10, 2.05}, {"PRIORITY_OVERNIGHT", "FedEx Priority Overnight", 41.30, 3.40}}
var international = []fedexService{{"INTERNATIONAL_ECONOMY", "FedEx International Economy", 52.00, 4.10}, {"FEDEX_INTERNATIONAL_PRIORITY", "FedEx International Priority", 66.40, 5.30}}

func charge(svc fedexService, lbs float64) float64 {
	v := svc.base + svc.perLb*float64(int(lbs+0.999))
	return float64(int(v*100+0.5)) / 100
}

func (s *Server) rate(w http.ResponseWriter, body map[string]any) {
	rs := get(body, "requestedShipment")
	if !checkAddress(w, rs, "shipper.address", "shipper") || !checkAddress(w, rs, "recipient.address", "recipient") {
		return
	}
	lbs, ok := weightLB(w, rs, "requestedPackageLineItems")
	if !ok {
		return
	}
	if str(rs, "pickupType") == "" {
		fedexError(w, http.StatusBadRequest, "PICKUPTYPE.REQUIRED", "Pickup type is required.")
		return
	}
	to := str(rs, "recipient.address.countryCode")
	if to == "AQ" {
		fedexError(w, http.StatusBadRequest, "RATE.LOCATION.NOSERVICE", "FedEx service is not currently available to this origin / destination combination.")
		return
	}
	table := domestic
	if to != str(rs, "shipper.address.countryCode") {
		table = international
	}
	var details []map[string]any
	for _, svc := range table {
		list := charge(svc, lbs)
		details = append(details, map[string]any{
			"serviceType": svc.typ, "serviceName": svc.name, "packagingType": "YOUR_PACKAGING",
			"ratedShipmentDetails": []map[string]any{
				{"rateType": "LIST", "totalNetCharge": list, "totalBaseCharge": list, "currency": "USD"},
				{"rateType": "ACCOUNT", "totalNetCharge": float64(int(list*90+0.5)) / 100, "currency": "USD"},
			},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": "rate-1", "output": map[string]any{"rateReplyDetails": details}})
}

func (s *Server) ship(w http.ResponseWriter, body map[string]any) {
	rs := get(body, "requestedShipment")
	if str(body, "labelResponseOptions") != "LABEL" && str(body, "labelResponseOptions") != "URL_ONLY" {
		fedexError(w, http.StatusBadRequest, "LABELRESPONSEOPTIONS.REQUIRED", "labelResponseOptions is required.")
		return
	}
	if str(rs, "shipper.contact.phoneNumber") == "" || str(rs, "recipients.contact.phoneNumber") == "" {
		fedexError(w, http.StatusBadRequest, "PHONENUMBER.EMPTY", "Please provide a valid phone number.")
		return
	}
	lines, _ := get(rs, "recipients.address.streetLines").([]any)
	if len(lines) == 0 || str(rs, "recipients.address.city") == "" {
		fedexError(w, http.StatusBadRequest, "RECIPIENT.ADDRESS.REQUIRED", "The recipient street address and city are required.")
		return
	}
	if !checkAddress(w, rs, "shipper.address", "shipper") || !checkAddress(w, rs, "recipients.address", "recipient") {
		return
	}
	if _, err := time.Parse(time.DateOnly, str(rs, "shipDatestamp")); err != nil {
		fedexError(w, http.StatusBadRequest, "SHIPDATESTAMP.INVALID", "Ship date stamp must be YYYY-MM-DD.")
		return
	}
	if str(rs, "labelSpecification.imageType") != "PDF" || str(rs, "labelSpecification.labelStockType") == "" ||
		str(rs, "shippingChargesPayment.paymentType") == "" || str(rs, "packagingType") == "" || str(rs, "pickupType") == "" {
		fedexError(w, http.StatusBadRequest, "SHIPMENT.FIELDS.REQUIRED", "A required shipment field is missing.")
		return
	}
	lbs, ok := weightLB(w, rs, "requestedPackageLineItems")
	if !ok {
		return
	}
	var svc *fedexService
	for _, x := range append(domestic, international...) {
		if x.typ == str(rs, "serviceType") {
			svc = &x
		}
	}
	if svc == nil {
		fedexError(w, http.StatusBadRequest, "SERVICETYPE.INVALID", "Invalid service type "+str(rs, "serviceType"))
		return
	}
	s.serial++
	tracking := fmt.Sprintf("7949%08d", s.serial)
	s.shipments[tracking] = &shipment{tracking: tracking,
		events: []map[string]any{s.event("OC", "Shipment information sent to FedEx", "", "")}}
	pdf := labelpdf.Render(labelpdf.Label{
		Carrier: "FEDEX", Service: svc.name, TrackingNumber: tracking, Reference: str(rs, "requestedPackageLineItems.customerReferences.value"),
		WeightGrams: int64(lbs * 453.59237),
		From:        labelpdf.Address{Name: str(rs, "shipper.contact.personName"), City: str(rs, "shipper.address.city"), Country: str(rs, "shipper.address.countryCode")},
		To:          labelpdf.Address{Name: str(rs, "recipients.contact.personName"), City: str(rs, "recipients.address.city"), Country: str(rs, "recipients.address.countryCode")},
	})
	net := charge(*svc, lbs)
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": "ship-" + strconv.Itoa(s.serial), "output": map[string]any{
		"transactionShipments": []map[string]any{{
			"serviceType": svc.typ, "masterTrackingNumber": tracking,
			"pieceResponses": []map[string]any{{
				"trackingNumber": tracking, "netChargeAmount": net,
				"packageDocuments": []map[string]any{{"contentType": "LABEL", "copiesToPrint": 1, "docType": "PDF",
					"encodedLabel": base64.StdEncoding.EncodeToString(pdf)}},
			}},
			"completedShipmentDetail": map[string]any{"shipmentRating": map[string]any{
				"shipmentRateDetails": []map[string]any{{"rateType": "PAYOR_ACCOUNT_PACKAGE", "totalNetCharge": net, "currency": "USD"}},
			}},
		}},
	}})
}

func (s *Server) cancel(w http.ResponseWriter, body map[string]any) {
	if str(body, "senderCountryCode") == "" || str(body, "deletionControl") == "" {
		fedexError(w, http.StatusBadRequest, "CANCEL.FIELDS.REQUIRED", "senderCountryCode and deletionControl are required.")
		return
	}
	sh := s.shipments[str(body, "trackingNumber")]
	switch {
	case sh == nil:
		fedexError(w, http.StatusNotFound, "TRACKINGNUMBER.NOTFOUND", "The tracking number was not found.")
	case sh.cancelled:
		fedexError(w, http.StatusBadRequest, "SHIPMENT.CANCEL.ALREADYCANCELLED", "The shipment has already been cancelled.")
	case len(sh.events) > 1:
		fedexError(w, http.StatusBadRequest, "SHIPMENT.CANCEL.NOTALLOWED", "The shipment was picked up and cannot be cancelled.")
	default:
		sh.cancelled = true
		writeJSON(w, http.StatusOK, map[string]any{"transactionId": "cancel-1",
			"output": map[string]any{"cancelledShipment": true, "successMessage": "Success"}})
	}
}

func (s *Server) track(w http.ResponseWriter, body map[string]any) {
	number := str(body, "trackingInfo.trackingNumberInfo.trackingNumber")
	sh := s.shipments[number]
	result := map[string]any{"trackingNumberInfo": map[string]any{"trackingNumber": number}}
	if sh == nil {
		result["error"] = map[string]string{"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "Tracking number cannot be found. Please correct the tracking number and try again."}
	} else {
		latest := sh.events[0]
		result["latestStatusDetail"] = map[string]any{"code": latest["eventType"], "derivedCode": latest["derivedStatusCode"], "description": latest["eventDescription"]}
		result["scanEvents"] = sh.events
		result["dateAndTimes"] = []map[string]string{{"type": "ESTIMATED_DELIVERY", "dateTime": s.now().AddDate(0, 0, 3).Format(time.RFC3339)}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"transactionId": "track-1", "output": map[string]any{
		"completeTrackResults": []map[string]any{{"trackingNumber": number, "trackResults": []map[string]any{result}}},
	}})
}
