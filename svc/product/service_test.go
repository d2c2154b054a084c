package product_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

const (
	staffToken    = "staff-secret-token"
	customerToken = "customer-secret-token"
	serviceToken  = "internal-secret-token"
)

// env is one product service on a real loopback HTTP server (HTTP/1.1 and
// h2c) over a real database and a real on-disk index.
type env struct {
	svc  *product.Service
	url  string
	anon productv1connect.ProductServiceClient
	// staff and customer send their bearer tokens.
	staff     productv1connect.ProductServiceClient
	customer  productv1connect.ProductServiceClient
	inventory productv1connect.InventoryServiceClient // as staff
	anonInv   productv1connect.InventoryServiceClient
	internal  productv1connect.InventoryServiceClient // as another Emporium service
	clock     *clocktest.Clock
	db        *bun.DB
}

func newEnv(t *testing.T, engine string) *env {
	t.Helper()
	idx, err := bleve.Open(t.TempDir() + "/products.bleve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	media, err := blob.NewDir(t.TempDir() + "/media")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	return newEnvWith(t, engine, product.Deps{Index: idx, Media: media})
}

// newEnvWith is newEnv on the index (and any other Deps) that deps sets.
func newEnvWith(t *testing.T, engine string, deps product.Deps) *env {
	t.Helper()
	d := dbtest.Open(t, engine, "product", product.Migrations)
	if _, err := product.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	log := logx.Discard()
	clock := clocktest.New(time.Now())
	deps.DB, deps.Currency, deps.Log, deps.Now = d, "USD", log, clock.Now
	if deps.CacheTTL == 0 {
		deps.CacheTTL = time.Minute // negative: no cache
	}
	svc, err := product.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	auth := authz.NewStaticTokens(map[string]*authz.Principal{
		staffToken:    {Subject: "staff-1", Roles: []string{authz.RoleStaff}},
		customerToken: {Subject: "cust-1", Roles: []string{authz.RoleCustomer}},
		serviceToken:  {Subject: "order", Roles: []string{authz.RoleService}},
	})
	opts, err := serve.HandlerOptions(log, auth)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	mux.Handle(product.UploadsPath, svc.MediaHandler())
	url := servetest.Start(t, mux)
	e := &env{svc: svc, url: url, clock: clock, db: d}
	e.anon = productv1connect.NewProductServiceClient(http.DefaultClient, url)
	e.staff = productv1connect.NewProductServiceClient(http.DefaultClient, url, servetest.Bearer(staffToken))
	e.customer = productv1connect.NewProductServiceClient(http.DefaultClient, url, servetest.Bearer(customerToken))
	e.inventory = productv1connect.NewInventoryServiceClient(http.DefaultClient, url, servetest.Bearer(staffToken))
	e.anonInv = productv1connect.NewInventoryServiceClient(http.DefaultClient, url)
	e.internal = productv1connect.NewInventoryServiceClient(http.DefaultClient, url, servetest.Bearer(serviceToken))
	return e
}

// catalog is a small catalog: n products spread over three categories,
// prices 10.00, 11.00, …, every fifth product out of stock.
func catalog(n int) seed.Catalog {
	c := seed.Catalog{Categories: []seed.Category{
		{Slug: "jackets", Name: "Jackets"}, {Slug: "sneakers", Name: "Sneakers"}, {Slug: "mugs", Name: "Mugs"},
	}}
	nouns := map[string]string{"jackets": "Jacket", "sneakers": "Sneaker", "mugs": "Mug"}
	for i := range n {
		cat := c.Categories[i%3].Slug
		stock := int64(5)
		if i%5 == 0 {
			stock = 0
		}
		c.Products = append(c.Products, &productv1.CreateProductRequest{
			Slug:        fmt.Sprintf("%s-%03d", cat, i),
			Title:       fmt.Sprintf("Harbor %s %03d", nouns[cat], i),
			Description: fmt.Sprintf("A sturdy %s made of organic cotton, number %d.", strings.ToLower(nouns[cat]), i),
			Brand:       []string{"Northwind", "Fabrikam"}[i%2],
			Category:    cat,
			Variants: []*productv1.Variant{
				{Sku: fmt.Sprintf("SKU-%03d-A", i), Options: map[string]string{"size": "M"}, Price: usd(1000 + int64(i)*100), Stock: stock},
				{Sku: fmt.Sprintf("SKU-%03d-B", i), Options: map[string]string{"size": "L"}, Price: usd(1100 + int64(i)*100), Stock: stock},
			},
			Images: []*productv1.Image{{Url: fmt.Sprintf("/media/products/%s-%03d.svg", cat, i), Alt: "photo"}},
		})
	}
	return c
}

func usd(amount int64) *typev1.Money { return &typev1.Money{Amount: amount, Currency: "USD"} }

func seedEnv(t *testing.T, e *env, n int) {
	t.Helper()
	created, err := e.svc.Seed(context.Background(), catalog(n), nil)
	if err != nil || created != n {
		t.Fatalf("Seed = %d, %v; want %d", created, err, n)
	}
}

func forEachEngine(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, engine))
		})
	}
}

func slugs(ps []*productv1.Product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.GetSlug()
	}
	return out
}

func TestListProductsPagesWithoutGapsOrOverlap(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 45)
		ctx := context.Background()
		var all []string
		token := ""
		var pageSizes []int
		for {
			res, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			pageSizes = append(pageSizes, len(res.GetProducts()))
			all = append(all, slugs(res.GetProducts())...)
			if token = res.GetNextPageToken(); token == "" {
				break
			}
		}
		if diff := cmp.Diff([]int{20, 20, 5}, pageSizes); diff != "" {
			t.Errorf("page sizes (-want +got):\n%s", diff)
		}
		// Seeded in order, newest first: the last seeded product leads.
		want := make([]string, 45)
		for i := range 45 {
			j := 44 - i
			want[i] = fmt.Sprintf("%s-%03d", []string{"jackets", "sneakers", "mugs"}[j%3], j)
		}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("newest-first listing (-want +got):\n%s", diff)
		}
	})
}

func TestListProductsFiltersAndSorts(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 30)
		ctx := context.Background()
		list := func(req *productv1.ListProductsRequest) []string {
			t.Helper()
			var out []string
			for {
				res, err := e.anon.ListProducts(ctx, req)
				if err != nil {
					t.Fatalf("ListProducts(%v): %v", req, err)
				}
				out = append(out, slugs(res.GetProducts())...)
				if res.GetNextPageToken() == "" {
					return out
				}
				req = proto.CloneOf(req)
				req.PageToken = res.GetNextPageToken()
			}
		}
		tests := []struct {
			name string
			req  *productv1.ListProductsRequest
			want []string
		}{
			{
				name: "category, cheapest first, paged by 4",
				req:  &productv1.ListProductsRequest{Category: "mugs", Sort: productv1.ProductSort_PRODUCT_SORT_PRICE_ASC, PageSize: 4},
				want: []string{"mugs-002", "mugs-005", "mugs-008", "mugs-011", "mugs-014", "mugs-017", "mugs-020", "mugs-023", "mugs-026", "mugs-029"},
			},
			{
				name: "price range 20.00..23.00, dearest first",
				req:  &productv1.ListProductsRequest{MinPrice: proto.Int64(2000), MaxPrice: proto.Int64(2300), Sort: productv1.ProductSort_PRODUCT_SORT_PRICE_DESC, PageSize: 2},
				want: []string{"sneakers-013", "jackets-012", "mugs-011", "sneakers-010"},
			},
			{
				name: "in stock only drops every fifth",
				req:  &productv1.ListProductsRequest{Category: "jackets", InStockOnly: true, Sort: productv1.ProductSort_PRODUCT_SORT_TITLE, PageSize: 3},
				want: []string{"jackets-003", "jackets-006", "jackets-009", "jackets-012", "jackets-018", "jackets-021", "jackets-024", "jackets-027"},
			},
			{name: "unknown category", req: &productv1.ListProductsRequest{Category: "boats"}, want: nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, list(tt.req)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
	})
}

func TestBadRequestsGetInvalidArgumentWithFieldViolations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	first, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		call      func() error
		wantField string // a field violation on this path, "" for none
		wantMsg   string
	}{
		{"page size over 100", func() error {
			_, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 101})
			return err
		}, "page_size", ""},
		{"negative page size", func() error {
			_, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: -1})
			return err
		}, "page_size", ""},
		{"min price above max", func() error {
			_, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{MinPrice: proto.Int64(500), MaxPrice: proto.Int64(100)})
			return err
		}, "", "min_price must not exceed max_price"},
		{"garbage page token", func() error {
			_, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageToken: "not-a-token"})
			return err
		}, "", "page_token is not valid"},
		{"page token from other filters", func() error {
			_, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1, Category: "mugs", PageToken: first.GetNextPageToken()})
			return err
		}, "", "other filters"},
		{"get with neither id nor slug", func() error {
			_, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{})
			return err
		}, "key", ""},
		{"empty search", func() error {
			_, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{})
			return err
		}, "query", ""},
		{"unknown price band", func() error {
			_, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "mug", PriceBand: "cheap"})
			return err
		}, "", "price_band"},
		{"bad slug on create", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "Bad Slug!", Title: "x", Category: "mugs",
				Variants: []*productv1.Variant{{Sku: "X-1", Price: usd(100)}}})
			return err
		}, "slug", ""},
		{"a NUL in a title (PostgreSQL refuses it in text)", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "nul", Title: "Mug\x00", Category: "mugs",
				Variants: []*productv1.Variant{{Sku: "NUL-1", Price: usd(100)}}})
			return err
		}, "title", ""},
		{"javascript: image URL", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "javascript:alert(document.cookie)"}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"data: image URL", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "data:image/svg+xml;base64,PHN2Zz4="}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"http image URL", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "http://cdn.example.com/a.jpg"}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"protocol-relative image URL", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "//evil.example/a.jpg"}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"media path climbing out", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "/media/../admin"}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"path outside media", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "img", Title: "x", Category: "mugs",
				Images: []*productv1.Image{{Url: "/api/secret"}}, Variants: []*productv1.Variant{{Sku: "IMG-1", Price: usd(100)}}})
			return err
		}, "images.url", ""},
		{"javascript: image URL on update", func() error {
			p := first.GetProducts()[0]
			_, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
				Product:    &productv1.Product{Id: p.GetId(), Images: []*productv1.Image{{Url: "JavaScript:alert(1)"}}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"images"}}})
			return err
		}, "product.images.url", ""},
		{"create without variants", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "ok", Title: "x", Category: "mugs"})
			return err
		}, "variants", ""},
		{"price in a foreign currency", func() error {
			_, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "eur", Title: "x", Category: "mugs",
				Variants: []*productv1.Variant{{Sku: "EUR-1", Price: &typev1.Money{Amount: 100, Currency: "EUR"}}}})
			return err
		}, "", "not the shop currency"},
		{"zero stock delta", func() error {
			_, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-000-A", Delta: 0, Reason: "count"})
			return err
		}, "delta", ""},
		{"update clearing the title", func() error {
			p := first.GetProducts()[0]
			_, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
				Product: &productv1.Product{Id: p.GetId()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			return err
		}, "title", ""},
		{"update of a read-only field", func() error {
			p := first.GetProducts()[0]
			_, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
				Product: &productv1.Product{Id: p.GetId()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"create_time"}}})
			return err
		}, "", "cannot be updated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if code(err) != connect.CodeInvalidArgument {
				t.Fatalf("code = %v (%v), want invalid_argument", code(err), err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not say %q", err.Error(), tt.wantMsg)
			}
			if tt.wantField != "" {
				if fields := violationFields(err); !contains(fields, tt.wantField) {
					t.Errorf("violations on %v, want one on %q", fields, tt.wantField)
				}
			}
		})
	}
}

func TestImageURLsBrowsersMayFollow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	images := []*productv1.Image{
		{Url: "https://cdn.example.com/p/a.jpg?w=800", Alt: "front"},
		{Url: "/media/products/mug-1.svg?view=2", Alt: "side"},
	}
	res, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "pictured", Title: "Pictured", Category: "mugs",
		Images: images, Variants: []*productv1.Variant{{Sku: "PIC-1", Price: usd(100)}}})
	if err != nil {
		t.Fatalf("https and /media/ images refused: %v", err)
	}
	if got := res.GetProduct().GetImages(); len(got) != 2 || got[0].GetUrl() != images[0].GetUrl() || got[1].GetUrl() != images[1].GetUrl() {
		t.Errorf("stored images %v, want %v", got, images)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	create := &productv1.CreateProductRequest{Slug: "new-mug", Title: "New Mug", Category: "mugs",
		Variants: []*productv1.Variant{{Sku: "NEW-1", Price: usd(1500)}}}
	bad := productv1connect.NewProductServiceClient(http.DefaultClient, e.url, servetest.Bearer("forged"))
	tests := []struct {
		name string
		call func() error
		want connect.Code
	}{
		{"anonymous create", func() error { _, err := e.anon.CreateProduct(ctx, create); return err }, connect.CodeUnauthenticated},
		{"customer create", func() error { _, err := e.customer.CreateProduct(ctx, create); return err }, connect.CodePermissionDenied},
		{"forged token create", func() error { _, err := bad.CreateProduct(ctx, create); return err }, connect.CodeUnauthenticated},
		{"forged token on a public method", func() error {
			_, err := bad.ListProducts(ctx, &productv1.ListProductsRequest{})
			return err
		}, connect.CodeUnauthenticated},
		{"anonymous invalid create learns nothing about the input", func() error {
			_, err := e.anon.CreateProduct(ctx, &productv1.CreateProductRequest{})
			return err
		}, connect.CodeUnauthenticated},
		{"customer archive", func() error {
			_, err := e.customer.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: "x"})
			return err
		}, connect.CodePermissionDenied},
		{"anonymous stock change", func() error {
			_, err := e.anonInv.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: 5, Reason: "r"})
			return err
		}, connect.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.call()); got != tt.want {
				t.Errorf("code = %v, want %v", got, tt.want)
			}
		})
	}
	// Nothing was created by the refused calls; staff can.
	if _, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "new-mug"}}); code(err) != connect.CodeNotFound {
		t.Fatalf("after refused creates, GetProduct = %v, want not_found", err)
	}
	res, err := e.staff.CreateProduct(ctx, create)
	if err != nil {
		t.Fatalf("staff create: %v", err)
	}
	if res.GetProduct().GetVariants()[0].GetStock() != 0 {
		t.Errorf("new product stock = %d, want 0 (stock changes only through InventoryService)", res.GetProduct().GetVariants()[0].GetStock())
	}
	if _, err := e.staff.CreateProduct(ctx, create); code(err) != connect.CodeAlreadyExists {
		t.Errorf("second create with the same slug: %v, want already_exists", err)
	}
	dupSKU := proto.CloneOf(create)
	dupSKU.Slug = "other-mug"
	if _, err := e.staff.CreateProduct(ctx, dupSKU); code(err) != connect.CodeAlreadyExists {
		t.Errorf("create reusing a SKU: %v, want already_exists", err)
	}
}

func TestEveryRPCDeclaresAnAccessRule(t *testing.T) {
	t.Parallel()
	file := productv1.File_emporium_product_v1_product_proto
	analytics := productv1.File_emporium_product_v1_analytics_proto
	if missing := authz.AuditRules(file.Services().Get(0), file.Services().Get(1), analytics.Services().Get(0)); len(missing) > 0 {
		t.Fatalf("RPCs without an access rule: %v", missing)
	}
}

func TestGetUpdateArchive(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 6)
		ctx := context.Background()
		got, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		p := got.GetProduct()
		byID, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: p.GetId()}})
		if err != nil || !proto.Equal(byID.GetProduct(), p) {
			t.Fatalf("GetProduct by id = %v, %v; want the same product as by slug", byID, err)
		}
		if p.GetPrice().GetAmount() != 1200 || !p.GetInStock() || len(p.GetVariants()) != 2 {
			t.Errorf("product = price %v in_stock %v variants %d; want 1200, true, 2", p.GetPrice(), p.GetInStock(), len(p.GetVariants()))
		}

		// Update title and variants: SKU-002-A stays (stock kept, new price),
		// SKU-002-B goes, SKU-002-C arrives with no stock.
		upd := &productv1.Product{Id: p.GetId(), Title: "Harbor Mug Deluxe", Variants: []*productv1.Variant{
			{Sku: "SKU-002-A", Options: map[string]string{"size": "M"}, Price: usd(900)},
			{Sku: "SKU-002-C", Options: map[string]string{"size": "XL"}, Price: usd(1900)},
		}}
		res, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title", "variants"}}, Etag: p.GetEtag()})
		if err != nil {
			t.Fatalf("UpdateProduct: %v", err)
		}
		type variant struct {
			SKU          string
			Price, Stock int64
		}
		var gotVariants []variant
		for _, v := range res.GetProduct().GetVariants() {
			gotVariants = append(gotVariants, variant{v.GetSku(), v.GetPrice().GetAmount(), v.GetStock()})
		}
		if diff := cmp.Diff([]variant{{"SKU-002-A", 900, 5}, {"SKU-002-C", 1900, 0}}, gotVariants); diff != "" {
			t.Errorf("variants after update (-want +got):\n%s", diff)
		}
		if r := res.GetProduct(); r.GetTitle() != "Harbor Mug Deluxe" || r.GetDescription() != p.GetDescription() || r.GetPrice().GetAmount() != 900 || r.GetEtag() == p.GetEtag() {
			t.Errorf("updated product = %v; want new title, same description, from-price 900, new etag", r)
		}
		// A stale etag is refused and changes nothing.
		_, err = e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product: &productv1.Product{Id: p.GetId(), Title: "Lost Update"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}, Etag: p.GetEtag()})
		if code(err) != connect.CodeAborted {
			t.Errorf("update with stale etag: %v, want aborted", err)
		}
		// Moving to a category that does not exist is refused.
		_, err = e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product: &productv1.Product{Id: p.GetId(), Category: "boats"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"category"}}})
		if code(err) != connect.CodeFailedPrecondition {
			t.Errorf("update to unknown category: %v, want failed_precondition", err)
		}
		if _, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product: &productv1.Product{Id: "nope", Title: "x"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}}); code(err) != connect.CodeNotFound {
			t.Errorf("update of unknown product: %v, want not_found", err)
		}

		// Archive twice: same result, hidden from listing and search, still readable.
		for range 2 {
			a, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: p.GetId()})
			if err != nil || a.GetProduct().GetStatus() != productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED {
				t.Fatalf("ArchiveProduct = %v, %v", a, err)
			}
		}
		list, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{Category: "mugs"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"mugs-005"}, slugs(list.GetProducts())); diff != "" {
			t.Errorf("mugs after archiving (-want +got):\n%s", diff)
		}
		found, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "deluxe"})
		if err != nil || len(found.GetHits()) != 0 {
			t.Errorf("search for the archived product = %v, %v; want no hits", found.GetHits(), err)
		}
		if _, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: p.GetId()}}); err != nil {
			t.Errorf("archived product no longer readable by id: %v", err)
		}
		cats, err := e.anon.ListCategories(ctx, &productv1.ListCategoriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int64{}
		for _, c := range cats.GetCategories() {
			counts[c.GetSlug()] = c.GetProductCount()
		}
		if diff := cmp.Diff(map[string]int64{"jackets": 2, "sneakers": 2, "mugs": 1}, counts); diff != "" {
			t.Errorf("category counts (-want +got):\n%s", diff)
		}
	})
}

func TestStockNeverGoesNegativeUnderConcurrency(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3) // SKU-001-A has 5 units
		ctx := context.Background()
		stockShown := func() int64 {
			t.Helper()
			res, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "sneakers-001"}})
			if err != nil {
				t.Fatal(err)
			}
			return res.GetProduct().GetVariants()[0].GetStock()
		}
		if got := stockShown(); got != 5 {
			t.Fatalf("stock shown = %d, want 5", got)
		}
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: 5, Reason: "restock"}); err != nil {
			t.Fatal(err)
		}
		// The product page shows the new stock at once (no stale cache).
		if got := stockShown(); got != 10 {
			t.Fatalf("stock shown after restocking = %d, want 10", got)
		}
		const buyers = 40
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			ok, fail int
			other    []error
		)
		for range buyers {
			wg.Go(func() {
				_, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: -1, Reason: "sale"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case code(err) == connect.CodeFailedPrecondition:
					fail++
				default:
					other = append(other, err)
				}
			})
		}
		wg.Wait()
		if ok != 10 || fail != buyers-10 || len(other) > 0 {
			t.Fatalf("succeeded %d, refused %d, other errors %v; want 10, %d, none", ok, fail, other, buyers-10)
		}
		res, err := e.anonInv.GetStock(ctx, &productv1.GetStockRequest{Skus: []string{"SKU-001-A", "SKU-001-B"}})
		if err != nil {
			t.Fatal(err)
		}
		var onHand []int64
		for _, l := range res.GetLevels() {
			onHand = append(onHand, l.GetOnHand())
		}
		if diff := cmp.Diff([]int64{0, 5}, onHand); diff != "" {
			t.Errorf("stock after the rush (-want +got):\n%s", diff)
		}
	})
}

func TestAdjustStockIsIdempotent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 1) // SKU-000-A starts out of stock
		ctx := context.Background()
		req := &productv1.AdjustStockRequest{Sku: "SKU-000-A", Delta: 7, Reason: "restock", IdempotencyKey: "po-1234"}
		for i := range 3 {
			res, err := e.inventory.AdjustStock(ctx, req)
			if err != nil || res.GetLevel().GetOnHand() != 7 {
				t.Fatalf("try %d: AdjustStock = %v, %v; want on_hand 7", i, res, err)
			}
		}
		changed := proto.CloneOf(req)
		changed.Delta = 8
		if _, err := e.inventory.AdjustStock(ctx, changed); code(err) != connect.CodeAlreadyExists {
			t.Errorf("same key, other body: %v, want already_exists", err)
		}
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "NOPE", Delta: 1, Reason: "x"}); code(err) != connect.CodeNotFound {
			t.Errorf("unknown SKU: %v, want not_found", err)
		}
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-000-A", Delta: -8, Reason: "x"}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("removing more than on hand: %v, want failed_precondition", err)
		}
		// Coming back into stock shows in listings filtered on stock.
		res, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{InStockOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"jackets-000"}, slugs(res.GetProducts())); diff != "" {
			t.Errorf("in-stock listing (-want +got):\n%s", diff)
		}
	})
}

func TestSearchFindsTyposWithFacetsAndHighlights(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 12)
		ctx := context.Background()
		res, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jakcet", PageSize: 3})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetTotalSize() != 4 || len(res.GetHits()) != 3 || res.GetNextPageToken() == "" {
			t.Fatalf("total %d, hits %d, next %q; want 4 jackets over two pages", res.GetTotalSize(), len(res.GetHits()), res.GetNextPageToken())
		}
		for _, h := range res.GetHits() {
			if h.GetProduct().GetCategory() != "jackets" {
				t.Errorf("hit %s is not a jacket", h.GetProduct().GetSlug())
			}
			if frags := h.GetHighlights()["title"].GetFragments(); len(frags) == 0 || !strings.Contains(frags[0], "<mark>Jacket</mark>") {
				t.Errorf("title highlight of %s = %v, want <mark>Jacket</mark>", h.GetProduct().GetSlug(), frags)
			}
		}
		var facetNames []string
		for _, f := range res.GetFacets() {
			facetNames = append(facetNames, f.GetName())
		}
		if diff := cmp.Diff([]string{"category", "brand", "price"}, facetNames); diff != "" {
			t.Errorf("facets (-want +got):\n%s", diff)
		}
		next, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jakcet", PageSize: 3, PageToken: res.GetNextPageToken()})
		if err != nil || len(next.GetHits()) != 1 || next.GetNextPageToken() != "" {
			t.Fatalf("second page = %v, %v; want the last jacket", next, err)
		}
		// A new product is searchable as soon as it is created.
		if _, err := e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "storm-parka", Title: "Storm Parka", Category: "jackets",
			Description: "Waterproof <b>shell</b>.", Variants: []*productv1.Variant{{Sku: "PARKA-1", Price: usd(25000)}}}); err != nil {
			t.Fatal(err)
		}
		res, err = e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "waterprof", PriceBand: "200-"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.GetHits()) != 1 || res.GetHits()[0].GetProduct().GetSlug() != "storm-parka" {
			t.Fatalf("search for the new parka = %v", res.GetHits())
		}
		desc := res.GetHits()[0].GetHighlights()["description"].GetFragments()
		if len(desc) == 0 || !strings.Contains(desc[0], "<mark>Waterproof</mark>") || strings.Contains(desc[0], "<b>") {
			t.Errorf("description highlight = %v; want the match marked and the HTML escaped", desc)
		}
	})
}

// inSync fails the test unless the index holds one document per active
// product: CatchUp, which the service runs at start, finds nothing to do.
func inSync(t *testing.T, e *env, when string) {
	t.Helper()
	err := e.svc.CatchUp(context.Background(), func(behind int64) {
		t.Errorf("%s: the index is %d documents behind the database", when, behind)
	}, nil)
	if err != nil {
		t.Fatalf("%s: CatchUp: %v", when, err)
	}
}

func TestReindexRebuildsAnEmptiedIndex(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	// More than one reindex batch (1,000).
	seedEnv(t, e, 1100)
	ctx := context.Background()
	inSync(t, e, "after seeding")
	var progress []int
	if err := e.svc.Reindex(ctx, true, func(done, total int) { progress = append(progress, done, total) }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1000, 1100, 1100, 1100}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	inSync(t, e, "after reindex")
	again, err := e.svc.Seed(ctx, catalog(1100), nil)
	if err != nil || again != 0 {
		t.Errorf("seeding again created %d (%v), want 0", again, err)
	}
}

func TestInternalErrorsAreMasked(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite", "product", product.Migrations)
	if _, err := product.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.Open(t.TempDir() + "/i.bleve")
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: "USD", Log: logx.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := serve.HandlerOptions(logx.Discard(), authz.NewStaticTokens(nil))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go serve.Serve(ctx, ln, mux, logx.Discard(), time.Second)
	d.Close() // every query now fails inside the store
	client := productv1connect.NewProductServiceClient(http.DefaultClient, "http://"+ln.Addr().String())
	_, err = client.ListProducts(ctx, &productv1.ListProductsRequest{})
	if code(err) != connect.CodeInternal {
		t.Fatalf("code = %v, want internal", code(err))
	}
	if msg := connect.NewError(connect.CodeInternal, err).Message(); strings.Contains(msg, "sql") || strings.Contains(msg, "closed") {
		t.Errorf("internal detail leaked to the caller: %q", msg)
	}
}

var code = testkit.Code

var violationFields = testkit.ViolationFields

func TestSearchSynonymsAreStaffOnlyAndApplyAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 6)
	ctx := context.Background()
	set := &productv1.SetSearchSynonymsRequest{Rules: []string{"Anorak, jacket", "mug => mug, cup"}}

	if _, err := e.anon.SetSearchSynonyms(ctx, set); code(err) != connect.CodeUnauthenticated {
		t.Errorf("SetSearchSynonyms without a token: %v, want unauthenticated", err)
	}
	if _, err := e.customer.SetSearchSynonyms(ctx, set); code(err) != connect.CodePermissionDenied {
		t.Errorf("SetSearchSynonyms as a customer: %v, want permission_denied", err)
	}
	if _, err := e.customer.GetSearchSynonyms(ctx, &productv1.GetSearchSynonymsRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("GetSearchSynonyms as a customer: %v, want permission_denied", err)
	}

	before, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "anorak"})
	if err != nil || before.GetTotalSize() != 0 {
		t.Fatalf("Search(anorak) before the rule = %d, %v; want 0", before.GetTotalSize(), err)
	}
	res, err := e.staff.SetSearchSynonyms(ctx, set)
	if err != nil {
		t.Fatalf("SetSearchSynonyms: %v", err)
	}
	want := []string{"anorak, jacket", "mug => mug, cup"}
	if diff := cmp.Diff(want, res.GetRules()); diff != "" {
		t.Errorf("stored rules (-want +got):\n%s", diff)
	}
	got, err := e.staff.GetSearchSynonyms(ctx, &productv1.GetSearchSynonymsRequest{})
	if err != nil || !slices.Equal(got.GetRules(), want) {
		t.Errorf("GetSearchSynonyms = %v, %v; want %v", got.GetRules(), err, want)
	}
	after, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "anorak"})
	if err != nil || after.GetTotalSize() != 2 {
		t.Errorf("Search(anorak) after the rule = %d, %v; want the 2 jackets", after.GetTotalSize(), err)
	}

	for _, bad := range [][]string{{"lonely"}, {"rain coat, anorak"}, {"a, b", "b, c"}} {
		_, err := e.staff.SetSearchSynonyms(ctx, &productv1.SetSearchSynonymsRequest{Rules: bad})
		if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "rule") {
			t.Errorf("SetSearchSynonyms(%q): %v, want invalid_argument naming the rule", bad, err)
		}
	}
	tooLong := &productv1.SetSearchSynonymsRequest{Rules: []string{strings.Repeat("a", 501) + ", b"}}
	if _, err := e.staff.SetSearchSynonyms(ctx, tooLong); code(err) != connect.CodeInvalidArgument ||
		!slices.Contains(violationFields(err), "rules") {
		t.Errorf("a 501-character rule: %v (fields %v), want invalid_argument on rules", err, violationFields(err))
	}
}

// TestSearchShowsAWriteAtOnce: a search's products come from the read cache
// when they are there and fill it when not; a write through this process
// shows in the next search and GetProduct at once all the same.
func TestSearchShowsAWriteAtOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedEnv(t, e, 6)
		search := func() *productv1.Product {
			t.Helper()
			res, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "sneaker 004"})
			if err != nil || len(res.GetHits()) == 0 {
				t.Fatalf("SearchProducts = %v, %v", res, err)
			}
			return res.GetHits()[0].GetProduct()
		}
		first := search()
		got, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: first.GetId()}})
		if err != nil || !proto.Equal(got.GetProduct(), first) {
			t.Fatalf("GetProduct after a search = %v, %v; want the product the search showed", got, err)
		}
		if search().GetTitle() != first.GetTitle() {
			t.Fatal("the same search twice shows another product")
		}
		_, err = e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product:    &productv1.Product{Id: first.GetId(), Description: "Now with a reinforced toe."},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := search().GetDescription(); d != "Now with a reinforced toe." {
			t.Errorf("description in a search after the update = %q, want the new one", d)
		}
		got, err = e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: first.GetId()}})
		if err != nil || got.GetProduct().GetDescription() != "Now with a reinforced toe." {
			t.Errorf("GetProduct after the update = %v, %v; want the new description", got.GetProduct().GetDescription(), err)
		}
	})
}

// TestUndefinedEnumNamesAreRefusedWithTheCacheOnOrOff: the product service
// encodes cached answers with its own codecs; its JSON one must still be the
// platform's, which refuses an enum name the enum does not define instead of
// dropping it (a "sort" that silently becomes the default), with or without
// the read cache.
func TestUndefinedEnumNamesAreRefusedWithTheCacheOnOrOff(t *testing.T) {
	t.Parallel()
	for _, ttl := range []time.Duration{time.Minute, -1} {
		idx, err := bleve.Open(t.TempDir() + "/products.bleve")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		e := newEnvWith(t, "sqlite", product.Deps{Index: idx, CacheTTL: ttl})
		for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
			res, err := http.Post(e.url+"/emporium.product.v1.ProductService/ListProducts", ct, strings.NewReader(`{"sort":"PRODUCT_SORT_BY_HACK"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `is not a value of emporium.product.v1.ProductSort`) {
				t.Errorf("cache TTL %v, %s: %d %s; want 400 naming the undefined value", ttl, ct, res.StatusCode, body)
			}
		}
	}
}
