package testworld

import (
	"cmp"
	"context"
	"strings"
	"testing"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/svc/payment/provider"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// The payment methods of the payment simulator's test cards (Stripe's test
// ids, which PayOrder takes as it takes tokenized cards) and the states of
// its intents, as Stripe names them.
const (
	CardSucceeds       = provider.TestMethodSucceeds
	CardDeclines       = provider.TestMethodDeclines
	CardRequires3DS    = provider.TestMethodRequires3DS
	IntentSucceeded    = provider.StatusSucceeded
	IntentCanceled     = provider.StatusCanceled
	IntentRequiresAuth = provider.StatusRequiresAction
)

// Item is a product with one variant, for Seed.
type Item struct {
	SKU   string
	Price int64 // minor units of USD
	Stock int64
	Grams int64
	// Slug and Title default to "p-<sku>" and "Product <SKU>"; Variant to
	// "Standard".
	Slug, Title, Variant string
}

// Seed adds one product per item to the catalog, in category "goods";
// items whose slug exists are left alone. It returns how many it created.
func (w *World) Seed(t testing.TB, items ...Item) int {
	t.Helper()
	c := seed.Catalog{Categories: []seed.Category{{Slug: "goods", Name: "Goods"}}}
	for _, it := range items {
		c.Products = append(c.Products, &productv1.CreateProductRequest{
			Slug:     cmp.Or(it.Slug, "p-"+strings.ToLower(it.SKU)),
			Title:    cmp.Or(it.Title, "Product "+it.SKU),
			Category: "goods",
			Variants: []*productv1.Variant{{Sku: it.SKU, Title: cmp.Or(it.Variant, "Standard"),
				Price: &typev1.Money{Amount: it.Price, Currency: "USD"}, Stock: it.Stock, WeightGrams: it.Grams}},
		})
	}
	n, err := w.Product.Service().Seed(context.Background(), c, nil)
	if err != nil {
		t.Fatalf("testworld: seed: %v", err)
	}
	return n
}

// IntentStatus is the state of a payment intent at the simulator.
func (w *World) IntentStatus(ctx context.Context, id string) (provider.Status, error) {
	intent, err := w.Payment.Simulator().Get(ctx, id)
	if err != nil {
		return "", err
	}
	return intent.Status, nil
}
