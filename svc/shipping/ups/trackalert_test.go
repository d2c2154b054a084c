package ups_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
)

// Pushes shaped as UPS documents Track Alert's messages.
func TestReadPush(t *testing.T) {
	t.Parallel()
	var c ups.Carrier
	header := func(credential string) http.Header { return http.Header{"Credential": {credential}} }
	tests := []struct {
		name       string
		credential string
		body       string
		wantNumber string
		want       []shipping.TrackingEvent
		wantKind   errs.Kind
	}{
		{name: "manifest, with UPS's padded tracking number", credential: "s3cret",
			body: `{"activityLocation":{"city":"","country":"US","postalCode":"","stateProvince":""},
				"activityStatus":{"code":"MP","description":"Shipment Ready for UPS","descriptionCode":"003","type":"M"},
				"actualDeliveryDate":"","actualDeliveryTime":"","gmtActivityDate":"20240422","gmtActivityTime":"041230",
				"localActivityDate":"20240422","localActivityTime":"091230","scheduledDeliveryDate":"","trackingNumber":" 1ZABCXYZ0112346789"}`,
			wantNumber: "1ZABCXYZ0112346789",
			want: []shipping.TrackingEvent{{Time: time.Date(2024, 4, 22, 4, 12, 30, 0, time.UTC), Status: shipping.TrackingLabelCreated,
				Description: "Shipment Ready for UPS", Location: "US"}}},
		{name: "out for delivery", credential: "s3cret",
			body: `{"trackingNumber":"1Z204W4R0308071865","localActivityDate":"20240423","localActivityTime":"091519",
				"activityLocation":{"city":"Charlotte","stateProvince":"NC","postalCode":"","country":"US"},
				"activityStatus":{"type":"I","code":"OT","description":"Out for Delivery","descriptionCode":"021"},
				"gmtActivityDate":"20240423","gmtActivityTime":"131519"}`,
			wantNumber: "1Z204W4R0308071865",
			want: []shipping.TrackingEvent{{Time: time.Date(2024, 4, 23, 13, 15, 19, 0, time.UTC), Status: shipping.TrackingOutForDelivery,
				Description: "Out for Delivery", Location: "Charlotte, NC, US"}}},
		{name: "delivered, local time only", credential: "s3cret",
			body: `{"trackingNumber":"1Z204W4R0308071865","localActivityDate":"20240423","localActivityTime":"095004",
				"activityLocation":{"city":"CHARLOTTE","stateProvince":"NC","postalCode":"28209","country":"US"},
				"activityStatus":{"type":"D","code":"FS","description":"Delivered","descriptionCode":"011"}}`,
			wantNumber: "1Z204W4R0308071865",
			want: []shipping.TrackingEvent{{Time: time.Date(2024, 4, 23, 9, 50, 4, 0, time.UTC), Status: shipping.TrackingDelivered,
				Description: "Delivered", Location: "CHARLOTTE, NC, US"}}},
		{name: "wrong credential", credential: "guess", body: `{"trackingNumber":"1Z204W4R0308071865"}`, wantKind: errs.Unauthenticated},
		{name: "no credential", body: `{"trackingNumber":"1Z204W4R0308071865"}`, wantKind: errs.Unauthenticated},
		{name: "not JSON", credential: "s3cret", body: `<xml/>`, wantKind: errs.Invalid},
		{name: "no tracking number", credential: "s3cret", body: `{"activityStatus":{"type":"D"}}`, wantKind: errs.Invalid},
		{name: "no date", credential: "s3cret", body: `{"trackingNumber":"1Z204W4R0308071865","activityStatus":{"type":"D"}}`, wantKind: errs.Invalid},
		{name: "unknown status type", credential: "s3cret",
			body:     `{"trackingNumber":"1Z204W4R0308071865","localActivityDate":"20240423","localActivityTime":"095004","activityStatus":{"type":"Q"}}`,
			wantKind: errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			number, events, err := c.ReadPush(header(tt.credential), []byte(tt.body), "s3cret")
			if tt.wantKind != 0 {
				if !errs.Is(err, tt.wantKind) || number != "" || events != nil {
					t.Fatalf("ReadPush = %q, %v, %v; want a %v error and nothing else", number, events, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if number != tt.wantNumber {
				t.Errorf("tracking number %q, want %q", number, tt.wantNumber)
			}
			if diff := cmp.Diff(tt.want, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
