package shipping

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// Shipment statuses as stored: the ShipmentStatus numbers.
const (
	statusPending        = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_PENDING)
	statusLabelCreated   = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_LABEL_CREATED)
	statusInTransit      = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_IN_TRANSIT)
	statusOutForDelivery = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_OUT_FOR_DELIVERY)
	statusDelivered      = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED)
	statusException      = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_EXCEPTION)
	statusReturned       = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_RETURNED)
	statusVoided         = int32(shippingv1.ShipmentStatus_SHIPMENT_STATUS_VOIDED)
)

// trackedStatuses are the states in which a parcel is with its carrier and
// may still move: the tracking poller asks about these.
var trackedStatuses = []int32{statusLabelCreated, statusInTransit, statusOutForDelivery, statusException}

// finalStatus reports whether a shipment's status can no longer change.
func finalStatus(s int32) bool {
	return s == statusDelivered || s == statusReturned || s == statusVoided
}

// statusOf maps a carrier's tracking status to ours; 0 for unknown.
func statusOf(t TrackingStatus) int32 {
	switch t {
	case TrackingLabelCreated:
		return statusLabelCreated
	case TrackingInTransit:
		return statusInTransit
	case TrackingOutForDelivery:
		return statusOutForDelivery
	case TrackingDelivered:
		return statusDelivered
	case TrackingException:
		return statusException
	case TrackingReturned:
		return statusReturned
	}
	return 0
}

// orderRow is an order the service ships, with what was ordered.
type orderRow struct {
	bun.BaseModel `bun:"table:shipment_orders,alias:o"`

	OrderID     string `bun:",pk"`
	OrderNumber string
	CustomerID  string
	Ordered     map[string]orderedLine `bun:",type:text"` // by SKU (JSON)
	CreatedAt   int64
}

type orderedLine struct {
	Quantity int64  `json:"q"`
	Title    string `json:"t"`
}

type shipmentRow struct {
	bun.BaseModel `bun:"table:shipments,alias:s"`

	ID                string `bun:",pk"`
	OrderID           string
	Carrier           string
	Service           string
	Status            int32
	TrackingNumber    string
	CarrierShipmentID string
	LabelKey          string
	LabelCost         int64
	Currency          string
	WeightGrams       int64
	LengthMM          int64 `bun:"length_mm"`
	WidthMM           int64 `bun:"width_mm"`
	HeightMM          int64 `bun:"height_mm"`
	DeclaredValue     int64
	ShipTo            string // protojson of a PostalAddress
	IdempotencyKey    string
	ParcelIndex       int
	RequestHash       string
	PolledAt          int64
	CreatedAt         int64 // Unix µs
	UpdatedAt         int64 // Unix µs

	// Joined, not columns.
	Order  *orderRow   `bun:"rel:belongs-to,join:order_id=order_id"`
	Items  []*itemRow  `bun:"rel:has-many,join:id=shipment_id"`
	Events []*eventRow `bun:"rel:has-many,join:id=shipment_id"`
}

type itemRow struct {
	bun.BaseModel `bun:"table:shipment_items,alias:i"`

	ShipmentID string `bun:",pk"`
	SKU        string `bun:"sku,pk"`
	Quantity   int64
}

type eventRow struct {
	bun.BaseModel `bun:"table:tracking_events,alias:e"`

	ShipmentID  string `bun:",pk"`
	At          int64  `bun:",pk"` // Unix µs
	Status      int32  `bun:",pk"`
	Description string
	Location    string
}

func (r *shipmentRow) toProto(trackingURL string) *shippingv1.Shipment {
	out := &shippingv1.Shipment{
		Id:             r.ID,
		OrderId:        r.OrderID,
		Carrier:        r.Carrier,
		Service:        r.Service,
		TrackingNumber: r.TrackingNumber,
		TrackingUrl:    trackingURL,
		Status:         shippingv1.ShipmentStatus(r.Status),
		WeightGrams:    r.WeightGrams,
		CreateTime:     ts(r.CreatedAt),
		UpdateTime:     ts(r.UpdatedAt),
	}
	if r.Order != nil {
		out.OrderNumber, out.CustomerId = r.Order.OrderNumber, r.Order.CustomerID
	}
	if r.LengthMM > 0 {
		out.Dimensions = &shippingv1.Dimensions{LengthMm: r.LengthMM, WidthMm: r.WidthMM, HeightMm: r.HeightMM}
	}
	if r.TrackingNumber != "" {
		out.LabelCost = &typev1.Money{Amount: r.LabelCost, Currency: r.Currency}
	}
	for _, it := range r.Items {
		out.Items = append(out.Items, &shippingv1.ShipmentItem{Sku: it.SKU, Quantity: it.Quantity})
	}
	out.Events = eventsProto(r.Events)
	return out
}

func eventsProto(rows []*eventRow) []*shippingv1.TrackingEvent {
	var out []*shippingv1.TrackingEvent
	for _, e := range rows {
		out = append(out, &shippingv1.TrackingEvent{
			Time: ts(e.At), Status: shippingv1.ShipmentStatus(e.Status), Description: e.Description, Location: e.Location,
		})
	}
	return out
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func ts(us int64) *timestamppb.Timestamp { return timestamppb.New(time.UnixMicro(us)) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// digest identifies a request's content, for idempotency checks.
func digest(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
