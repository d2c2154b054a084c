package ups

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/carrierhttp"
)

// UPS Track Alert pushes a parcel's scans to a URL given at subscription,
// for 14 days, with the opaque credential given there in a "credential"
// header. The service subscribes every UPS parcel it buys a label for
// (Subscribe) with its webhook URL and secret, and reads the pushes
// (ReadPush); the polling job stays as the safety net for lost pushes.

// TrackAlertEvent is the body of a Track Alert push (UPS's
// TrackingEventRequest); not every field has a value in every push.
type TrackAlertEvent struct {
	TrackingNumber    string `json:"trackingNumber"`
	LocalActivityDate string `json:"localActivityDate"` // YYYYMMDD
	LocalActivityTime string `json:"localActivityTime"` // HHMMSS
	GMTActivityDate   string `json:"gmtActivityDate"`   // YYYYMMDD
	GMTActivityTime   string `json:"gmtActivityTime"`   // HHMMSS
	ActivityLocation  struct {
		City          string `json:"city"`
		StateProvince string `json:"stateProvince"`
		PostalCode    string `json:"postalCode"`
		Country       string `json:"country"`
	} `json:"activityLocation"`
	ActivityStatus struct {
		Type            string `json:"type"` // M, MV, X, I, U or D
		Code            string `json:"code"`
		Description     string `json:"description"`
		DescriptionCode string `json:"descriptionCode"`
	} `json:"activityStatus"`
	ScheduledDeliveryDate string `json:"scheduledDeliveryDate"`
	ActualDeliveryDate    string `json:"actualDeliveryDate"`
	ActualDeliveryTime    string `json:"actualDeliveryTime"`
}

// ReadPush implements shipping.PushReader for Track Alert: the push must
// carry secret in its credential header.
func (c *Carrier) ReadPush(header http.Header, body []byte, secret string) (string, []shipping.TrackingEvent, error) {
	if got := header.Get("credential"); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		return "", nil, errs.Unauthenticatedf("ups: the push does not carry the subscription's credential")
	}
	var e TrackAlertEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return "", nil, errs.Invalidf("ups: the push is not a Track Alert event: %v", err)
	}
	number := strings.TrimSpace(e.TrackingNumber) // UPS's own example pads it
	if number == "" {
		return "", nil, errs.Invalidf("ups: the push has no trackingNumber")
	}
	// The GMT date and time place the scan exactly; the local ones, which
	// every push has, are read as UTC when the GMT ones are missing.
	when, err := time.Parse("20060102150405", e.GMTActivityDate+e.GMTActivityTime)
	if err != nil {
		if when, err = time.Parse("20060102150405", e.LocalActivityDate+e.LocalActivityTime); err != nil {
			return "", nil, errs.Invalidf("ups: the push's activity date and time %q %q are not YYYYMMDD HHMMSS", e.LocalActivityDate, e.LocalActivityTime)
		}
	}
	status := statusOf(ActivityStatus{Type: e.ActivityStatus.Type, Description: e.ActivityStatus.Description, Code: e.ActivityStatus.Code})
	if e.ActivityStatus.Type == "U" {
		status = shipping.TrackingInTransit // an updated delivery date: still on its way
	}
	if status == shipping.TrackingUnknown {
		return "", nil, errs.Invalidf("ups: the push's activity status type %q is not one Track Alert sends", e.ActivityStatus.Type)
	}
	loc := e.ActivityLocation
	where := TrackAddress{City: loc.City, StateProvince: loc.StateProvince, CountryCode: loc.Country}
	return number, []shipping.TrackingEvent{{
		Time: when.UTC(), Status: status, Description: e.ActivityStatus.Description, Location: where.String(),
	}}, nil
}

// Subscribe asks Track Alert to push the scans of up to 100 parcels to url
// with credential for the next 14 days. It answers the tracking numbers
// UPS refused.
func (c *Carrier) Subscribe(ctx context.Context, trackingNumbers []string, url, credential string) (refused []string, err error) {
	if len(trackingNumbers) == 0 || len(trackingNumbers) > 100 {
		return nil, errs.Invalidf("ups: subscribe 1 to 100 tracking numbers at a time, not %d", len(trackingNumbers))
	}
	req := map[string]any{
		"locale": "en_US", "countryCode": "US", "trackingNumberList": trackingNumbers,
		"destination": map[string]string{"url": url, "credentialType": "Bearer", "credential": credential},
	}
	var resp struct {
		ValidTrackingNumbers   []string `json:"validTrackingNumbers"`
		InvalidTrackingNumbers []string `json:"invalidTrackingNumbers"`
	}
	// Subscribing twice is harmless: it restarts the 14 days.
	err = c.http.Do(ctx, carrierhttp.Request{Op: "track alert subscribe", Method: http.MethodPost,
		Path: "/api/track/v1/subscription/standard/package", Header: c.transHeader(), JSON: req, Idempotent: true}, &resp)
	if err != nil {
		return nil, err
	}
	return resp.InvalidTrackingNumbers, nil
}
