package product_test

import (
	"context"
	"testing"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// Handler-level costs (no HTTP) over the demo catalog, on each engine:
//
//	go test -run '^$' -bench . -benchmem ./svc/product/
func BenchmarkHandlers(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.Open(b, engine, "product", product.Migrations)
			if _, err := product.Migrate(context.Background(), d); err != nil {
				b.Fatal(err)
			}
			idx, err := bleve.Open(b.TempDir() + "/i.bleve")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { idx.Close() })
			svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: "USD", Log: logx.Discard()})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := svc.Seed(ctx, seed.Demo("USD"), nil); err != nil {
				b.Fatal(err)
			}
			first, err := svc.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
			if err != nil {
				b.Fatal(err)
			}
			slug := first.GetProducts()[0].GetSlug()
			b.Run("GetProduct", func(b *testing.B) {
				req := &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: slug}}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := svc.GetProduct(ctx, req); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("ListProducts20", func(b *testing.B) {
				req := &productv1.ListProductsRequest{PageSize: 20}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := svc.ListProducts(ctx, req); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("SearchProducts", func(b *testing.B) {
				req := &productv1.SearchProductsRequest{Query: "waterprof jakcet"}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.SearchProducts(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
