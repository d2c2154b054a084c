package shipping

import (
	"context"
	"net/http"
	"time"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// Carrier is the port to a carrier's rates. The local rate table implements
// it; so do the full carriers (LabelCarrier) below.
type Carrier interface {
	// Name identifies the carrier in rate ids, e.g. "local" in
	// "local:standard". It must not contain ':'.
	Name() string
	// Quote lists the services that can carry the parcel, in any order; none
	// when the carrier does not go there. Prices are in the shop currency.
	Quote(ctx context.Context, p Parcel) ([]Rate, error)
}

// LabelCarrier is a carrier that also buys labels, voids them and tracks
// parcels: the local carrier in dev, UPS and FedEx through their REST APIs.
//
// Errors are platform error kinds: an address or parcel the carrier refuses
// is errs.Invalid with the carrier's reason; a carrier that keeps failing
// (5xx, timeouts, after the adapter's own retries) is errs.Unavailable
// naming the carrier. An expired access token is refreshed by the adapter
// and never surfaces.
type LabelCarrier interface {
	Carrier
	// CreateLabel buys a label for one parcel. Idempotent per
	// LabelRequest.Reference where the carrier allows it; callers still
	// store the result before acting on it.
	CreateLabel(ctx context.Context, req LabelRequest) (Label, error)
	// Void cancels an unused label. Voiding one already voided is not an
	// error.
	Void(ctx context.Context, l Label) error
	// Track reports where a parcel is, events oldest first.
	Track(ctx context.Context, trackingNumber string) (Tracking, error)
}

// Parcel is what a carrier prices.
type Parcel struct {
	Destination *typev1.Destination
	WeightGrams int64 // 1..MaxWeightGrams
	Subtotal    int64 // value of the goods, in minor units of the shop currency
}

// MaxWeightGrams is the heaviest parcel quoted, as the API allows (1 t).
const MaxWeightGrams = 1_000_000

// Rate is one way a carrier can ship a parcel.
type Rate struct {
	Service string // the carrier's service id, e.g. "standard"
	Name    string // shown to shoppers, e.g. "Standard"
	Price   int64  // minor units of the shop currency
	MinDays int32  // delivery estimate in business days
	MaxDays int32
}

// LabelRequest is one parcel to buy a label for.
type LabelRequest struct {
	// Reference is our id for the parcel (the shipment id); carriers print it
	// on the label and some use it to make the purchase idempotent.
	Reference   string
	Service     string // the carrier's service id, as in Rate.Service
	From        *typev1.PostalAddress
	To          *typev1.PostalAddress
	WeightGrams int64
	// Outer dimensions in millimetres; zero when unknown.
	LengthMM, WidthMM, HeightMM int64
	Currency                    string // the shop currency, for the declared value and the cost
	DeclaredValue               int64  // minor units
}

// Label is a bought label.
type Label struct {
	TrackingNumber string
	// CarrierShipmentID is the carrier's own id for the purchase, where it
	// voids by that rather than by tracking number (UPS).
	CarrierShipmentID string
	// PDF is the printable label.
	PDF []byte
	// Cost is what the carrier charged, in minor units of Currency.
	Cost     int64
	Currency string
}

// TrackingStatus is where a parcel is in its journey, across carriers.
type TrackingStatus int

const (
	TrackingUnknown        TrackingStatus = iota
	TrackingLabelCreated                  // the carrier knows the parcel but has not got it
	TrackingInTransit                     // picked up, moving
	TrackingOutForDelivery                // on the van
	TrackingDelivered                     // final
	TrackingException                     // delayed, held, address problem; may recover
	TrackingReturned                      // going back to the sender; final
)

// Final reports whether no further events are expected.
func (s TrackingStatus) Final() bool { return s == TrackingDelivered || s == TrackingReturned }

// Tracking is a parcel's state and history at a carrier.
type Tracking struct {
	TrackingNumber string
	Status         TrackingStatus
	Events         []TrackingEvent // oldest first
	// EstimatedDelivery is the carrier's promise; zero when it gives none.
	EstimatedDelivery time.Time
}

// TrackingEvent is one scan.
type TrackingEvent struct {
	Time        time.Time
	Status      TrackingStatus
	Description string // the carrier's words, e.g. "Departed facility"
	Location    string // e.g. "Louisville, KY, US"; may be empty
}

// PushReader is a carrier that pushes tracking events in its own format
// (UPS Track Alert) to WebhookPath + its name. The service hands it each
// push with the webhook secret; it authenticates the push its carrier's
// way and decodes it. Pushes to carriers that are not PushReaders use the
// service's own signed format (TrackingPush).
type PushReader interface {
	// ReadPush returns the parcel and its new events. A push that is not
	// authentic is errs.Unauthenticated, a malformed one errs.Invalid.
	ReadPush(header http.Header, body []byte, secret string) (trackingNumber string, events []TrackingEvent, err error)
}

// PushSubscriber is a carrier whose pushes must be asked for per parcel
// (UPS Track Alert): the service subscribes each parcel it buys a label
// for, when it has a public WebhookURL.
type PushSubscriber interface {
	// Subscribe asks the carrier to push the parcels' scans to url with
	// credential; it answers the tracking numbers the carrier refused.
	Subscribe(ctx context.Context, trackingNumbers []string, url, credential string) (refused []string, err error)
}
