package product_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

func categorySlugs(cs []*productv1.Category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.GetSlug()
	}
	return out
}

func TestCategoriesCreateRenameReorderArchiveRestore(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		created, err := e.staff.CreateCategory(ctx, &productv1.CreateCategoryRequest{Slug: "hats", Name: " Hats ", Description: "On heads"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&productv1.Category{Slug: "hats", Name: "Hats", Description: "On heads", Position: 3}, created.GetCategory(), protocmp.Transform()); diff != "" {
			t.Errorf("created category (-want +got):\n%s", diff)
		}
		if _, err := e.staff.CreateCategory(ctx, &productv1.CreateCategoryRequest{Slug: "hats", Name: "Again"}); code(err) != connect.CodeAlreadyExists {
			t.Errorf("second create of hats: %v, want already_exists", err)
		}
		if _, err := e.staff.CreateCategory(ctx, &productv1.CreateCategoryRequest{Slug: "Bad Slug", Name: "x"}); code(err) != connect.CodeInvalidArgument || !slices.Contains(testkit.ViolationFields(err), "slug") {
			t.Errorf("create with a bad slug: %v, want invalid_argument on slug", err)
		}

		renamed, err := e.staff.UpdateCategory(ctx, &productv1.UpdateCategoryRequest{
			Category:   &productv1.Category{Slug: "mugs", Name: "Cups and mugs", Description: "ignored: not in the mask"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := renamed.GetCategory(); c.GetName() != "Cups and mugs" || c.GetDescription() != "" || c.GetProductCount() != 1 {
			t.Errorf("renamed category = %v; want the new name, the old description, 1 product", c)
		}
		for _, bad := range []struct {
			req  *productv1.UpdateCategoryRequest
			want connect.Code
		}{
			{&productv1.UpdateCategoryRequest{Category: &productv1.Category{Slug: "boats", Name: "Boats"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}}, connect.CodeNotFound},
			{&productv1.UpdateCategoryRequest{Category: &productv1.Category{Slug: "mugs", Name: "x"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"slug"}}}, connect.CodeInvalidArgument},
			{&productv1.UpdateCategoryRequest{Category: &productv1.Category{Slug: "mugs", Name: "  "}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}}, connect.CodeInvalidArgument},
		} {
			if _, err := e.staff.UpdateCategory(ctx, bad.req); code(err) != bad.want {
				t.Errorf("UpdateCategory(%v) = %v, want %v", bad.req, err, bad.want)
			}
		}

		// Reordering must name every category once.
		if _, err := e.staff.ReorderCategories(ctx, &productv1.ReorderCategoriesRequest{Slugs: []string{"hats", "mugs"}}); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "missing") {
			t.Errorf("reorder naming two of four: %v, want invalid_argument naming the missing ones", err)
		}
		if _, err := e.staff.ReorderCategories(ctx, &productv1.ReorderCategoriesRequest{Slugs: []string{"hats", "mugs", "jackets", "sneakers", "boats"}}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("reorder naming an unknown category: %v, want invalid_argument", err)
		}
		order := []string{"hats", "mugs", "jackets", "sneakers"}
		for range 2 { // idempotent
			got, err := e.staff.ReorderCategories(ctx, &productv1.ReorderCategoriesRequest{Slugs: order})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(order, categorySlugs(got.GetCategories())); diff != "" {
				t.Errorf("reordered (-want +got):\n%s", diff)
			}
		}

		// Archived: gone from the public list, no new products in it, back
		// when restored.
		for range 2 {
			a, err := e.staff.ArchiveCategory(ctx, &productv1.ArchiveCategoryRequest{Slug: "hats"})
			if err != nil || !a.GetCategory().GetArchived() {
				t.Fatalf("ArchiveCategory = %v, %v", a, err)
			}
		}
		public, err := e.anon.ListCategories(ctx, &productv1.ListCategoriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"mugs", "jackets", "sneakers"}, categorySlugs(public.GetCategories())); diff != "" {
			t.Errorf("public categories with hats archived (-want +got):\n%s", diff)
		}
		if _, err := e.customer.ListCategories(ctx, &productv1.ListCategoriesRequest{IncludeArchived: true}); code(err) != connect.CodePermissionDenied {
			t.Errorf("customer asking for archived categories: %v, want permission_denied", err)
		}
		all, err := e.staff.ListCategories(ctx, &productv1.ListCategoriesRequest{IncludeArchived: true})
		if err != nil || !slices.Equal(order, categorySlugs(all.GetCategories())) || !all.GetCategories()[0].GetArchived() {
			t.Errorf("staff ListCategories(include_archived) = %v, %v; want all four, hats archived", all, err)
		}
		hat := &productv1.CreateProductRequest{Slug: "bowler", Title: "Bowler", Category: "hats",
			Variants: []*productv1.Variant{{Sku: "HAT-1", Price: usd(3000)}}}
		if _, err := e.staff.CreateProduct(ctx, hat); code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "archived") {
			t.Errorf("create in an archived category: %v, want failed_precondition saying archived", err)
		}
		if r, err := e.staff.RestoreCategory(ctx, &productv1.RestoreCategoryRequest{Slug: "hats"}); err != nil || r.GetCategory().GetArchived() {
			t.Fatalf("RestoreCategory = %v, %v", r, err)
		}
		if _, err := e.staff.CreateProduct(ctx, hat); err != nil {
			t.Errorf("create in the restored category: %v", err)
		}
		if _, err := e.staff.ArchiveCategory(ctx, &productv1.ArchiveCategoryRequest{Slug: "boats"}); code(err) != connect.CodeNotFound {
			t.Errorf("archive an unknown category: %v, want not_found", err)
		}
	})
}

func TestBackOfficeRPCsAreStaffOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	custInv := productv1connect.NewInventoryServiceClient(http.DefaultClient, e.url, servetest.Bearer(customerToken))
	calls := map[string]func(productv1connect.ProductServiceClient, productv1connect.InventoryServiceClient) error{
		"CreateCategory": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.CreateCategory(ctx, &productv1.CreateCategoryRequest{Slug: "hats", Name: "Hats"})
			return err
		},
		"UpdateCategory": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.UpdateCategory(ctx, &productv1.UpdateCategoryRequest{Category: &productv1.Category{Slug: "mugs", Name: "x"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}})
			return err
		},
		"ReorderCategories": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.ReorderCategories(ctx, &productv1.ReorderCategoriesRequest{Slugs: []string{"mugs", "jackets", "sneakers"}})
			return err
		},
		"ArchiveCategory": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.ArchiveCategory(ctx, &productv1.ArchiveCategoryRequest{Slug: "mugs"})
			return err
		},
		"RestoreCategory": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.RestoreCategory(ctx, &productv1.RestoreCategoryRequest{Slug: "mugs"})
			return err
		},
		"RestoreProduct": func(c productv1connect.ProductServiceClient, _ productv1connect.InventoryServiceClient) error {
			_, err := c.RestoreProduct(ctx, &productv1.RestoreProductRequest{Id: "x"})
			return err
		},
		"ListStockMovements": func(_ productv1connect.ProductServiceClient, i productv1connect.InventoryServiceClient) error {
			_, err := i.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-001-A"})
			return err
		},
		"ListLowStock": func(_ productv1connect.ProductServiceClient, i productv1connect.InventoryServiceClient) error {
			_, err := i.ListLowStock(ctx, &productv1.ListLowStockRequest{Threshold: 3})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(e.anon, e.anonInv); code(err) != connect.CodeUnauthenticated {
				t.Errorf("anonymous: %v, want unauthenticated", err)
			}
			if err := call(e.customer, custInv); code(err) != connect.CodePermissionDenied {
				t.Errorf("customer: %v, want permission_denied", err)
			}
		})
	}
	cats, err := e.anon.ListCategories(ctx, &productv1.ListCategoriesRequest{})
	if err != nil || len(cats.GetCategories()) != 3 || cats.GetCategories()[0].GetName() != "Jackets" {
		t.Errorf("after refused calls, categories = %v, %v; want the three, unchanged", cats, err)
	}
}

func TestRestoreProduct(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		got, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		id := got.GetProduct().GetId()
		if _, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			r, err := e.staff.RestoreProduct(ctx, &productv1.RestoreProductRequest{Id: id})
			if err != nil || r.GetProduct().GetStatus() != productv1.ProductStatus_PRODUCT_STATUS_ACTIVE {
				t.Fatalf("RestoreProduct = %v, %v; want active", r, err)
			}
		}
		list, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{Category: "mugs"})
		if err != nil || !slices.Equal(slugs(list.GetProducts()), []string{"mugs-002"}) {
			t.Errorf("mugs after restoring = %v, %v", slugs(list.GetProducts()), err)
		}
		found, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "harbor mug"})
		if err != nil || len(found.GetHits()) != 1 {
			t.Errorf("search after restoring = %v, %v; want the mug", found.GetHits(), err)
		}
		if _, err := e.staff.RestoreProduct(ctx, &productv1.RestoreProductRequest{Id: "nope"}); code(err) != connect.CodeNotFound {
			t.Errorf("restore of an unknown product: %v, want not_found", err)
		}
	})
}

func TestStockLedgerRecordsWhoWhyAndTheLevelLeft(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3) // SKU-001-A starts with 5
		ctx := context.Background()
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: 7, Reason: "restock", IdempotencyKey: "po-1"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(1e9)
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: -2, Reason: "damaged"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(1e9)
		res, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 3)), IdempotencyKey: "checkout-1"})
		if err != nil {
			t.Fatal(err)
		}
		// A retried adjustment is not a second movement.
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-001-A", Delta: 7, Reason: "restock", IdempotencyKey: "po-1"}); err != nil {
			t.Fatal(err)
		}
		type movement struct {
			Delta, After  int64
			Reason, Actor string
		}
		var got []movement
		token := ""
		for page := 0; ; page++ {
			r, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-001-A", PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.GetMovements() {
				got = append(got, movement{m.GetDelta(), m.GetOnHandAfter(), m.GetReason(), m.GetActor()})
				if m.GetCreateTime() == nil || m.GetSku() != "SKU-001-A" {
					t.Errorf("movement %v lacks its time or SKU", m)
				}
			}
			if token = r.GetNextPageToken(); token == "" {
				break
			}
			if page > 3 {
				t.Fatal("paging does not end")
			}
		}
		want := []movement{
			{-3, 7, "reserve " + res.GetReservation().GetId(), "order"},
			{-2, 10, "damaged", "staff-1"},
			{7, 12, "restock", "staff-1"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ledger, newest first (-want +got):\n%s", diff)
		}
		first, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-001-A", PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-002-A", PageToken: first.GetNextPageToken()}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("a page token of another SKU: %v, want invalid_argument", err)
		}
		if _, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "NOPE"}); code(err) != connect.CodeNotFound {
			t.Errorf("ledger of an unknown SKU: %v, want not_found", err)
		}
		if _, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-001-A", PageSize: 101}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("page size 101: %v, want invalid_argument", err)
		}
	})
}

func TestListLowStock(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 7) // products 0 and 5 are sold out, the rest have 5 a SKU
		ctx := context.Background()
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-003-B", Delta: -4, Reason: "count"}); err != nil {
			t.Fatal(err)
		}
		p6, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "jackets-006"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: p6.GetProduct().GetId()}); err != nil {
			t.Fatal(err)
		}
		list := func(threshold int64, size int32) []string {
			t.Helper()
			var out []string
			token := ""
			for {
				r, err := e.inventory.ListLowStock(ctx, &productv1.ListLowStockRequest{Threshold: threshold, PageSize: size, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range r.GetLevels() {
					out = append(out, l.GetSku()+":"+strings.Repeat("*", int(l.GetOnHand())))
					if l.GetProductTitle() == "" || l.GetVariantTitle() == "" || l.GetProductId() == "" {
						t.Errorf("level %v lacks its titles or product", l)
					}
				}
				if token = r.GetNextPageToken(); token == "" {
					return out
				}
			}
		}
		if diff := cmp.Diff([]string{"SKU-000-A:", "SKU-000-B:", "SKU-005-A:", "SKU-005-B:", "SKU-003-B:*"}, list(1, 2)); diff != "" {
			t.Errorf("SKUs at or below 1 (-want +got):\n%s", diff)
		}
		if got := list(5, 3); len(got) != 12 { // 7 products × 2 SKUs, less archived jackets-006
			t.Errorf("SKUs at or below 5: %d (%v), want 12", len(got), got)
		}
		first, err := e.inventory.ListLowStock(ctx, &productv1.ListLowStockRequest{Threshold: 1, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.inventory.ListLowStock(ctx, &productv1.ListLowStockRequest{Threshold: 2, PageToken: first.GetNextPageToken()}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("a page token of another threshold: %v, want invalid_argument", err)
		}
		if _, err := e.inventory.ListLowStock(ctx, &productv1.ListLowStockRequest{Threshold: -1}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("negative threshold: %v, want invalid_argument", err)
		}
	})
}

func TestTwoStaffEditingOneProductGetOneConflict(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		got, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		read := got.GetProduct() // both staff read the same version
		titles := []string{"Edited by Ada", "Edited by Bob"}
		errsOf := make([]error, 2)
		var wg sync.WaitGroup
		for i, title := range titles {
			wg.Go(func() {
				_, errsOf[i] = e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
					Product: &productv1.Product{Id: read.GetId(), Title: title}, Etag: read.GetEtag(),
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}},
				})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errsOf {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("both edits applied: a lost update")
				}
				winner = i
			case code(err) != connect.CodeAborted || !strings.Contains(err.Error(), "changed by someone else"):
				t.Errorf("losing edit: %v, want aborted saying someone else changed it", err)
			}
		}
		if winner < 0 {
			t.Fatalf("no edit applied: %v", errsOf)
		}
		after, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: read.GetId()}})
		if err != nil || after.GetProduct().GetTitle() != titles[winner] {
			t.Errorf("title after the race = %q, %v; want the winner's %q", after.GetProduct().GetTitle(), err, titles[winner])
		}
	})
}
