package serve

import (
	"testing"

	"connectrpc.com/connect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

func TestNULIsRefusedWhereverItIs(t *testing.T) {
	t.Parallel()
	product := func() *productv1.CreateProductRequest {
		return &productv1.CreateProductRequest{
			Title: "Rain jacket", Slug: "rain-jacket",
			Variants: []*productv1.Variant{
				{Sku: "A", Price: &typev1.Money{Amount: 100, Currency: "USD"}, Options: map[string]string{"size": "M"}},
				{Sku: "B", Options: map[string]string{"size": "L"}},
			},
		}
	}
	if err := refuseNUL(product()); err != nil {
		t.Fatalf("a clean request: %v", err)
	}
	for _, tt := range []struct {
		name  string
		edit  func(*productv1.CreateProductRequest)
		field string
	}{
		{"top-level string", func(p *productv1.CreateProductRequest) { p.Title = "Rain\x00jacket" }, "title"},
		{"string in a list element", func(p *productv1.CreateProductRequest) { p.Variants[1].Sku = "\x00" }, "variants.sku"},
		{"nested message", func(p *productv1.CreateProductRequest) { p.Variants[0].Price.Currency = "US\x00" }, "variants.price.currency"},
		{"map value", func(p *productv1.CreateProductRequest) { p.Variants[1].Options["size"] = "L\x00" }, "variants.options"},
		{"map key", func(p *productv1.CreateProductRequest) { p.Variants[0].Options["si\x00ze"] = "M" }, "variants.options"},
	} {
		p := product()
		tt.edit(p)
		err := refuseNUL(p)
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", tt.name, err)
			continue
		}
		if got := testkit.ViolationFields(err); len(got) != 1 || got[0] != tt.field {
			t.Errorf("%s: violations name %v, want [%s]", tt.name, got, tt.field)
		}
	}
}
