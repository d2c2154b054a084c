package shipping

import (
	"context"

	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// Carrier is the port to one carrier's prices. The local rate table
// implements it; UPS and FedEx adapters will too.
type Carrier interface {
	// Name identifies the carrier in rate ids, e.g. "local" in
	// "local:standard". It must not contain ':'.
	Name() string
	// Quote lists the services that can carry the parcel, in any order; none
	// when the carrier does not go there. Prices are in the shop currency.
	Quote(ctx context.Context, p Parcel) ([]Rate, error)
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
