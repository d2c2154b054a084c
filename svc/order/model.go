package order

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

type cartRow struct {
	bun.BaseModel `bun:"table:carts,alias:c"`

	ID           string `bun:",pk"`
	CustomerID   *string
	TokenHash    *string
	DiscountCode string
	MergedInto   *string
	CreatedAt    int64
	UpdatedAt    int64
	// Version counts the cart's changes: a write based on a read of an
	// older version is refused (see store.updateCart).
	Version int64

	// Lines is JSON in the row, oldest first, so that a cart is read, and
	// changed, in one statement.
	Lines []*cartLine `bun:",type:text"`
}

var _ bun.BeforeAppendModelHook = (*cartRow)(nil)

// BeforeAppendModel writes a cart without lines as [], not JSON null.
func (c *cartRow) BeforeAppendModel(context.Context, bun.Query) error {
	if c.Lines == nil {
		c.Lines = []*cartLine{}
	}
	return nil
}

// cartLine is one SKU in a cart.
type cartLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	AddedAt  int64  `json:"added_at"`
	// SearchID is the search the item was last added from, or "".
	SearchID string `json:"search_id,omitempty"`
}

type discountRow struct {
	bun.BaseModel `bun:"table:discounts,alias:d"`

	ID             string `bun:",pk"`
	Code           string
	Description    string
	Kind           int32
	PercentOff     int32
	AmountOff      int64
	MinSubtotal    int64
	Currency       string
	MaxRedemptions int64
	Redemptions    int64
	StartsAt       int64
	EndsAt         *int64
	Active         bool
	CreatedAt      int64
	UpdatedAt      int64
}

type orderRow struct {
	bun.BaseModel `bun:"table:orders,alias:o"`

	ID              string `bun:",pk"`
	Number          string
	CustomerID      string
	Status          status
	Currency        string
	Subtotal        int64
	DiscountID      string
	DiscountCode    string
	DiscountTotal   int64
	ShippingTotal   int64
	TaxTotal        int64
	Total           int64
	RefundedTotal   int64
	ShippingAddress string // protojson of typev1.PostalAddress
	ShipName        string // lower case, for staff search
	ShippingRate    string // protojson of shippingv1.ShippingRate
	PaymentID       string
	ReservationID   string
	IdempotencyKey  string
	RequestHash     string
	ExpiresAt       int64
	Version         int64
	CreatedAt       int64
	UpdatedAt       int64

	Lines   []*orderLine  `bun:",type:text"` // JSON, fixed at checkout
	History []*statusStep `bun:",type:text"` // JSON, oldest first
}

// orderLine is a line of an order as it was bought.
type orderLine struct {
	SKU          string `json:"sku"`
	ProductID    string `json:"product_id"`
	Title        string `json:"title"`
	VariantTitle string `json:"variant_title,omitempty"`
	UnitPrice    int64  `json:"unit_price"`
	Quantity     int64  `json:"quantity"`
	LineTotal    int64  `json:"line_total"`
}

// statusStep is one entry of an order's history.
type statusStep struct {
	From   status `json:"from"`
	To     status `json:"to"`
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
	At     int64  `json:"at"` // Unix µs
}

type orderRefundRow struct {
	bun.BaseModel `bun:"table:order_refunds,alias:orf"`

	OrderID        string `bun:",pk"`
	IdempotencyKey string `bun:",pk"`
	RequestHash    string
	Amount         int64
	CreatedAt      int64
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func ts(us int64) *timestamppb.Timestamp { return timestamppb.New(time.UnixMicro(us)) }

func moneyOf(amount int64, currency string) *typev1.Money {
	return &typev1.Money{Amount: amount, Currency: currency}
}

func (o *orderRow) toProto() *orderv1.Order {
	p := &orderv1.Order{
		Id: o.ID, Number: o.Number, CustomerId: o.CustomerID, Status: o.Status,
		Subtotal: moneyOf(o.Subtotal, o.Currency), DiscountCode: o.DiscountCode,
		DiscountTotal: moneyOf(o.DiscountTotal, o.Currency), ShippingTotal: moneyOf(o.ShippingTotal, o.Currency),
		TaxTotal: moneyOf(o.TaxTotal, o.Currency), Total: moneyOf(o.Total, o.Currency),
		RefundedTotal:   moneyOf(o.RefundedTotal, o.Currency),
		ShippingAddress: new(typev1.PostalAddress), ShippingRate: new(shippingv1.ShippingRate), PaymentId: o.PaymentID,
		ExpireTime: ts(o.ExpiresAt), CreateTime: ts(o.CreatedAt), UpdateTime: ts(o.UpdatedAt),
	}
	// Written by this package from valid messages; a failure would leave the
	// fields empty rather than hide the order.
	_ = protojson.Unmarshal([]byte(o.ShippingAddress), p.ShippingAddress)
	_ = protojson.Unmarshal([]byte(o.ShippingRate), p.ShippingRate)
	for _, l := range o.Lines {
		p.Lines = append(p.Lines, &orderv1.OrderLine{
			Sku: l.SKU, ProductId: l.ProductID, Title: l.Title, VariantTitle: l.VariantTitle,
			UnitPrice: moneyOf(l.UnitPrice, o.Currency), Quantity: l.Quantity, LineTotal: moneyOf(l.LineTotal, o.Currency),
		})
	}
	for _, h := range o.History {
		p.History = append(p.History, &orderv1.StatusChange{
			From: h.From, To: h.To, Reason: h.Reason, Actor: h.Actor, Time: ts(h.At),
		})
	}
	return p
}

func (d *discountRow) toProto() *orderv1.Discount {
	p := &orderv1.Discount{
		Id: d.ID, Code: d.Code, Description: d.Description, Kind: orderv1.DiscountKind(d.Kind),
		PercentOff: d.PercentOff, MinSubtotal: moneyOf(d.MinSubtotal, d.Currency),
		MaxRedemptions: d.MaxRedemptions, Redemptions: d.Redemptions,
		StartTime: ts(d.StartsAt), Active: d.Active, CreateTime: ts(d.CreatedAt),
	}
	if d.Kind == int32(orderv1.DiscountKind_DISCOUNT_KIND_FIXED) {
		p.AmountOff = moneyOf(d.AmountOff, d.Currency)
	}
	if d.EndsAt != nil {
		p.EndTime = ts(*d.EndsAt)
	}
	return p
}
