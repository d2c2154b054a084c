package product_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// replica is a product service on the shared database, as one of several
// `emporium serve --services=product` processes; shared nil is a replica
// without --redis-url.
func replica(t *testing.T, d *bun.DB, shared *product.SharedCache) *product.Service {
	t.Helper()
	idx, err := bleve.Open(t.TempDir() + "/i.bleve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: "USD", Log: logx.Discard(),
		CacheTTL: time.Hour, SharedCache: shared})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// With Redis, a price changed through one replica is what every replica
// serves at once, although each keeps answers for an hour; a replica
// without Redis keeps serving the old price.
func TestPriceChangeVisibleThroughEveryReplicaAtOnce(t *testing.T) {
	t.Parallel()
	redistest.Client(t)
	d := dbtest.Open(t, "postgres", "product", product.Migrations)
	ctx := context.Background()
	if _, err := product.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	key := redistest.Prefix(t) + "catalog-generation"
	open := func() *product.SharedCache {
		c, err := product.OpenSharedCache(ctx, redistest.URL(), key, logx.Discard())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a, b, alone := replica(t, d, open()), replica(t, d, open()), replica(t, d, nil)

	if _, err := a.Seed(ctx, seed.Catalog{
		Categories: []seed.Category{{Slug: "mugs", Name: "Mugs"}},
		Products: []*productv1.CreateProductRequest{{Slug: "harbor-mug", Title: "Harbor Mug", Category: "mugs",
			Variants: []*productv1.Variant{{Sku: "MUG-1", Price: usd(1200), Stock: 5}}}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	get := &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "harbor-mug"}}
	created, err := a.GetProduct(ctx, get)
	if err != nil {
		t.Fatal(err)
	}
	price := func(s *product.Service) int64 {
		t.Helper()
		res, err := s.GetProduct(ctx, get)
		if err != nil {
			t.Fatal(err)
		}
		return res.GetProduct().GetVariants()[0].GetPrice().GetAmount()
	}
	for _, s := range []*product.Service{a, b, alone} {
		if p := price(s); p != 1200 { // and now cached for an hour
			t.Fatalf("price before the change = %d, want 1200", p)
		}
	}

	p := created.GetProduct()
	p.Variants[0].Price = usd(999)
	if _, err := a.UpdateProduct(ctx, &productv1.UpdateProductRequest{Product: p,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"variants"}}}); err != nil {
		t.Fatal(err)
	}
	if got := price(a); got != 999 {
		t.Errorf("the writing replica serves %d, want 999", got)
	}
	// Redis pushes the invalidation within a round trip; allow scheduling.
	start := time.Now()
	for price(b) != 999 {
		if time.Since(start) > time.Second {
			t.Fatalf("the other replica still serves the old price after %s", time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("the other replica served the new price %s after the write returned", time.Since(start))
	if got := price(alone); got != 1200 {
		t.Errorf("a replica without Redis serves %d; want its cached 1200 (the test would prove nothing otherwise)", got)
	}
}

// The cost of a GetProduct answered from the read cache, without and with
// the shared (Redis) cache: a hit is served from this process's memory
// either way, so the two should match.
//
//	go test -run '^$' -bench CacheHit -benchmem ./svc/product/
func BenchmarkCacheHit(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"in-process", "redis"} {
		b.Run(mode, func(b *testing.B) {
			d := dbtest.Open(b, "sqlite", "product", product.Migrations)
			if _, err := product.Migrate(ctx, d); err != nil {
				b.Fatal(err)
			}
			var shared *product.SharedCache
			if mode == "redis" {
				redistest.Client(b)
				c, err := product.OpenSharedCache(ctx, redistest.URL(), redistest.Prefix(b)+"catalog-generation", logx.Discard())
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(c.Close)
				shared = c
			}
			idx, err := bleve.Open(b.TempDir() + "/i.bleve")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { idx.Close() })
			svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: "USD", Log: logx.Discard(), CacheTTL: time.Hour, SharedCache: shared})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Seed(ctx, seed.Catalog{
				Categories: []seed.Category{{Slug: "mugs", Name: "Mugs"}},
				Products: []*productv1.CreateProductRequest{{Slug: "harbor-mug", Title: "Harbor Mug", Category: "mugs",
					Variants: []*productv1.Variant{{Sku: "MUG-1", Price: usd(1200), Stock: 5}}}},
			}, nil); err != nil {
				b.Fatal(err)
			}
			req := &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "harbor-mug"}}
			if _, err := svc.GetProduct(ctx, req); err != nil { // now cached
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := svc.GetProduct(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
