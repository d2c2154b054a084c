package product_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

func TestLookupVariantsReportsPriceStockWeightAndSaleState(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := catalog(3)
		c.Products[1].Variants[0].WeightGrams = 750
		if n, err := e.svc.Seed(ctx, c, nil); err != nil || n != 3 {
			t.Fatalf("Seed = %d, %v", n, err)
		}
		p, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: p.GetProduct().GetId()}); err != nil {
			t.Fatal(err)
		}

		res, err := e.anon.LookupVariants(ctx, &productv1.LookupVariantsRequest{Skus: []string{"SKU-002-A", "NOPE", "SKU-001-A", "SKU-000-B"}})
		if err != nil {
			t.Fatal(err)
		}
		want := []*productv1.VariantInfo{
			{Sku: "SKU-002-A", ProductId: p.GetProduct().GetId(), ProductSlug: "mugs-002", ProductTitle: "Harbor Mug 002",
				VariantTitle: "M", Price: usd(1200), Stock: 5, ImageUrl: "/media/products/mugs-002.svg", ForSale: false},
			{Sku: "SKU-001-A", ProductSlug: "sneakers-001", ProductTitle: "Harbor Sneaker 001",
				VariantTitle: "M", Price: usd(1100), Stock: 5, WeightGrams: 750, ImageUrl: "/media/products/sneakers-001.svg", ForSale: true},
			{Sku: "SKU-000-B", ProductSlug: "jackets-000", ProductTitle: "Harbor Jacket 000",
				VariantTitle: "L", Price: usd(1100), Stock: 0, ImageUrl: "/media/products/jackets-000.svg", ForSale: true},
		}
		if diff := cmp.Diff(want, res.GetVariants(), protocmp.Transform(), protocmp.IgnoreFields(&productv1.VariantInfo{}, "product_id")); diff != "" {
			t.Errorf("LookupVariants (-want +got):\n%s", diff)
		}
		if res.GetVariants()[0].GetProductId() != p.GetProduct().GetId() {
			t.Errorf("product_id = %q, want %q", res.GetVariants()[0].GetProductId(), p.GetProduct().GetId())
		}
	})
}
