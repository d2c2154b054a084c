package product

import (
	"context"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/paging"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// fuzzClient is a client of a product service with a few products on
// engine, behind the interceptors production runs (validation, errors),
// with the cache off so every call reaches the store.
func fuzzClient(f *testing.F, engine string) productv1connect.ProductServiceClient {
	f.Helper()
	idx, err := bleve.Open(f.TempDir() + "/products.bleve")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { idx.Close() })
	d := dbtest.Open(f, engine, "product", Migrations)
	if _, err := Migrate(context.Background(), d); err != nil {
		f.Fatal(err)
	}
	svc, err := New(Deps{DB: d, Index: idx, Currency: "USD", Log: logx.Discard()})
	if err != nil {
		f.Fatal(err)
	}
	c := seed.Catalog{Categories: []seed.Category{{Slug: "jackets", Name: "Jackets"}}}
	for i, title := range []string{"Harbor rain jacket", "Summit down jacket", "Trail wind shell"} {
		c.Products = append(c.Products, &productv1.CreateProductRequest{
			Slug: "p" + string(rune('a'+i)), Title: title, Brand: "Northwind", Category: "jackets",
			Variants: []*productv1.Variant{{Sku: "SKU-" + string(rune('A'+i)), Price: &typev1.Money{Amount: 1000 + int64(i)*500, Currency: "USD"}, Stock: int64(i)}},
		})
	}
	if _, err := svc.Seed(context.Background(), c, nil); err != nil {
		f.Fatal(err)
	}
	opts, err := serve.HandlerOptions(logx.Discard(), authz.NewStaticTokens(nil))
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	return productv1connect.NewProductServiceClient(http.DefaultClient, servetest.Start(f, mux))
}

// wellFormed fails t unless err is nil or invalid_argument: a forged or
// mangled page token or query is the caller's mistake, never an internal
// error.
func wellFormed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil && connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("%s: %v, want a page or invalid_argument", what, err)
	}
}

// FuzzListProductsPageToken sends page tokens that carry the request's own
// filter hash (so they pass the binding check) with any cursor values, and
// raw strings, on SQLite and PostgreSQL.
func FuzzListProductsPageToken(f *testing.F) {
	engines := map[string]productv1connect.ProductServiceClient{"sqlite": fuzzClient(f, "sqlite"), "postgres": fuzzClient(f, "postgres")}
	f.Add(int32(productv1.ProductSort_PRODUCT_SORT_PRICE_ASC), int64(1500), "", "pb", "")
	f.Add(int32(productv1.ProductSort_PRODUCT_SORT_PRICE_DESC), int64(0), "a title", "", "")
	f.Add(int32(productv1.ProductSort_PRODUCT_SORT_TITLE), int64(-1), "Summit", "x' OR 1=1 --", "")
	f.Add(int32(productv1.ProductSort_PRODUCT_SORT_NEWEST), int64(1<<62), "\x00\xff", "", "")
	f.Add(int32(0), int64(0), "", "", "eyJpIjoxLCJpZCI6IngiLCJmIjoxfQ")
	f.Add(int32(99), int64(0), "", "", "!!!")
	f.Fuzz(func(t *testing.T, sort int32, i int64, text, id, raw string) {
		if !utf8.ValidString(raw) {
			t.Skip("proto strings are UTF-8: a client cannot send this")
		}
		for engine, client := range engines {
			req := &productv1.ListProductsRequest{Category: "jackets", PageSize: 1, Sort: productv1.ProductSort(sort)}
			req.PageToken = raw
			if raw == "" {
				req.PageToken = paging.Encode(&listCursor{Int: i, Text: text, ID: id, Filter: filterHash(req)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := client.ListProducts(ctx, req)
			cancel()
			wellFormed(t, engine+" ListProducts", err)
		}
	})
}

// FuzzSearchProducts sends any query text with page tokens bound to it
// (any offset) or raw ones.
func FuzzSearchProducts(f *testing.F) {
	client := fuzzClient(f, "sqlite")
	f.Add("jakcet", 0, "")
	f.Add("rain jacket", 20, "")
	f.Add("title:harbor AND brand:*", 9995, "")
	f.Add("\"unbalanced (", 1<<40, "")
	f.Add("the of and", -5, "")
	f.Add(" \t ", 0, "")
	f.Add("jacket", 0, "eyJvIjo1LCJxIjoxfQ")
	f.Fuzz(func(t *testing.T, query string, offset int, raw string) {
		if !utf8.ValidString(query) || !utf8.ValidString(raw) {
			t.Skip("proto strings are UTF-8: a client cannot send this")
		}
		req := &productv1.SearchProductsRequest{Query: query, PageSize: 2}
		req.PageToken = raw
		if raw == "" && offset != 0 {
			req.PageToken = paging.Encode(&searchCursor{Offset: offset, Query: searchHash(req)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := client.SearchProducts(ctx, req)
		wellFormed(t, "SearchProducts", err)
		if err == nil && len(res.GetHits()) > 2 {
			t.Fatalf("%d hits on a page of 2", len(res.GetHits()))
		}
	})
}
