package product

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"buf.build/go/protovalidate"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// The columns of the CSV files, in the order ExportCatalog writes them.
var (
	productColumns = []string{"slug", "title", "description", "brand", "category", "status", "sku", "variant_title", "options", "price", "weight_grams"}
	stockColumns   = []string{"sku", "on_hand"}
)

// maxImportProblems bounds the problems one import reports; the rest are
// summed up in one last problem.
const maxImportProblems = 1000

var statusNames = map[productv1.ProductStatus]string{
	productv1.ProductStatus_PRODUCT_STATUS_ACTIVE:   "active",
	productv1.ProductStatus_PRODUCT_STATUS_DRAFT:    "draft",
	productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED: "archived",
}

// safeCell keeps a spreadsheet from running a cell as a formula (CSV
// injection): a value starting with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, as OWASP advises; so does a value that already
// starts with one, so that unsafeCell restores every value exactly.
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r'", rune(v[0])) {
		return "'" + v
	}
	return v
}

// unsafeCell undoes safeCell.
func unsafeCell(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r'", rune(v[1])) {
		return v[1:]
	}
	return v
}

// exportCursor is the key after the last product (or SKU) of an export page.
type exportCursor struct {
	After string                `json:"a"`
	File  productv1.CatalogFile `json:"f"`
}

// ExportCatalog implements ProductService.
func (s *Service) ExportCatalog(ctx context.Context, req *productv1.ExportCatalogRequest) (*productv1.ExportCatalogResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 500
	}
	var after string
	if req.GetPageToken() != "" {
		c := new(exportCursor)
		if err := paging.Decode(req.GetPageToken(), c); err != nil {
			return nil, err
		}
		if c.File != req.GetFile() || c.After == "" {
			return nil, errs.Invalidf("page_token belongs to an export of another file: start again without it")
		}
		after = c.After
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	write := func(cells ...string) {
		for i := range cells {
			cells[i] = safeCell(cells[i])
		}
		_ = w.Write(cells) // into a bytes.Buffer: cannot fail
	}
	res := &productv1.ExportCatalogResponse{}
	switch req.GetFile() {
	case productv1.CatalogFile_CATALOG_FILE_PRODUCTS:
		if after == "" {
			write(slices.Clone(productColumns)...)
		}
		var rows []*productRow
		q := s.store.db.NewSelect().Model(&rows).Relation("Variants", orderVariants)
		if after != "" {
			q.Where("p.id > ?", after)
		}
		if err := q.Order("p.id").Limit(int64(size) + 1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("export products: %w", err)
		}
		if len(rows) > size {
			rows = rows[:size]
			res.NextPageToken = paging.Encode(exportCursor{After: rows[len(rows)-1].ID, File: req.GetFile()})
		}
		for _, p := range rows {
			for _, v := range p.Variants {
				write(p.Slug, p.Title, p.Description, p.Brand, p.Category, statusNames[productv1.ProductStatus(p.Status)],
					v.SKU, v.Title, formatOptions(v.Options), money.Decimal(v.Price, v.Currency), strconv.FormatInt(v.WeightGrams, 10))
			}
		}
	case productv1.CatalogFile_CATALOG_FILE_STOCK:
		if after == "" {
			write(slices.Clone(stockColumns)...)
		}
		var rows []*variantRow
		q := s.store.db.NewSelect().Model(&rows).Column("sku", "stock")
		if after != "" {
			q.Where("v.sku > ?", after)
		}
		if err := q.Order("v.sku").Limit(int64(size) + 1).Scan(ctx); err != nil {
			return nil, fmt.Errorf("export stock: %w", err)
		}
		if len(rows) > size {
			rows = rows[:size]
			res.NextPageToken = paging.Encode(exportCursor{After: rows[len(rows)-1].SKU, File: req.GetFile()})
		}
		for _, v := range rows {
			write(v.SKU, strconv.FormatInt(v.Stock, 10))
		}
	default:
		return nil, errs.Invalidf("file must be CATALOG_FILE_PRODUCTS or CATALOG_FILE_STOCK")
	}
	w.Flush()
	res.Csv = buf.String()
	return res, nil
}

// formatOptions writes variant options as "colour=red;size=M", keys sorted.
func formatOptions(opts map[string]string) string {
	keys := slices.Sorted(maps.Keys(opts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + opts[k]
	}
	return strings.Join(parts, ";")
}

// parseOptions reads formatOptions' format.
func parseOptions(v string) (map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return nil, fmt.Errorf("%q is not name=value (options are like \"size=M;colour=red\")", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("option %q appears twice", k)
		}
		out[k] = val
	}
	return out, nil
}

// importer collects the problems of one import.
type importer struct {
	problems []*productv1.ImportProblem
	dropped  int
}

func (im *importer) add(line int, column, format string, args ...any) {
	if len(im.problems) >= maxImportProblems {
		im.dropped++
		return
	}
	im.problems = append(im.problems, &productv1.ImportProblem{Line: int64(line), Column: column, Message: fmt.Sprintf(format, args...)})
}

func (im *importer) result() []*productv1.ImportProblem {
	if im.dropped > 0 {
		return append(im.problems, &productv1.ImportProblem{Message: fmt.Sprintf("and %d more problems", im.dropped)})
	}
	return im.problems
}

// csvRow is a data row of an import: its line and its cells by column.
type csvRow struct {
	line  int
	cells map[string]string
}

// readCSV reads a whole CSV whose header must name the columns want, in any
// order, each once; unknown columns are refused.
func (im *importer) readCSV(text string, want []string) []csvRow {
	r := csv.NewReader(strings.NewReader(text))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		im.add(1, "", "cannot read the header row: %v", csvError(err))
		return nil
	}
	index := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark from Excel
		}
		h = strings.TrimSpace(h)
		_, dup := index[h]
		switch {
		case !slices.Contains(want, h):
			im.add(1, h, "unknown column %q; the columns are %s", h, strings.Join(want, ", "))
		case dup:
			im.add(1, h, "column %q appears twice", h)
		default:
			index[h] = i
		}
	}
	for _, c := range want {
		if _, ok := index[c]; !ok {
			im.add(1, c, "column %q is missing", c)
		}
	}
	if len(im.problems) > 0 {
		return nil
	}
	var rows []csvRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			if !errors.As(err, &perr) {
				im.add(0, "", "%v", err)
				break
			}
			im.add(perr.StartLine, "", "%v", csvError(err))
			if !errors.Is(err, csv.ErrFieldCount) {
				break // a broken quote: the reader cannot find the next row
			}
			continue
		}
		line, _ := r.FieldPos(0)
		cells := make(map[string]string, len(want))
		for c, i := range index {
			cells[c] = unsafeCell(strings.TrimSpace(rec[i]))
		}
		rows = append(rows, csvRow{line: line, cells: cells})
	}
	if len(rows) == 0 && len(im.problems) == 0 {
		im.add(2, "", "the file has a header but no rows")
	}
	return rows
}

func csvError(err error) string {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return perr.Err.Error()
	}
	return err.Error()
}

var (
	slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	skuPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// parsePrice reads a price in major units of currency, refusing more
// decimals than the currency has (no silent rounding of prices).
func parsePrice(v, currency string) (int64, error) {
	if _, frac, ok := strings.Cut(v, "."); ok && len(frac) > money.Exponent(currency) {
		return 0, fmt.Errorf("%q has more decimals than %s has", v, currency)
	}
	amount, err := money.Parse(v, currency)
	if err != nil {
		return 0, err
	}
	if amount < 0 {
		return 0, fmt.Errorf("%q is negative", v)
	}
	return amount, nil
}

// importedProduct is one product of a products file, from its rows.
type importedProduct struct {
	line int // its first row
	req  *productv1.CreateProductRequest
	// status is the product's status, archived allowed.
	status productv1.ProductStatus
}

// ImportCatalog implements ProductService.
func (s *Service) ImportCatalog(ctx context.Context, req *productv1.ImportCatalogRequest) (*productv1.ImportCatalogResponse, error) {
	sum := sha256.Sum256([]byte(req.GetCsv()))
	hash := hex.EncodeToString(sum[:])
	if prev, err := s.store.catalogImport(ctx, hash); err != nil || prev != nil {
		return prev, err
	}
	im := &importer{}
	res := &productv1.ImportCatalogResponse{Sha256: hash}
	var apply func(ctx context.Context, tx bun.Tx) error
	switch req.GetFile() {
	case productv1.CatalogFile_CATALOG_FILE_PRODUCTS:
		rows := im.readCSV(req.GetCsv(), productColumns)
		res.Rows = int64(len(rows))
		products := s.checkProductRows(ctx, im, rows)
		apply = func(ctx context.Context, tx bun.Tx) error {
			created, updated, err := s.applyProducts(ctx, tx, products)
			res.Created, res.Updated = created, updated
			return err
		}
	case productv1.CatalogFile_CATALOG_FILE_STOCK:
		rows := im.readCSV(req.GetCsv(), stockColumns)
		res.Rows = int64(len(rows))
		levels := s.checkStockRows(ctx, im, rows)
		apply = func(ctx context.Context, tx bun.Tx) error {
			changed, err := s.applyStock(ctx, tx, levels, "import "+hash[:12], actor(ctx))
			res.Updated = changed
			return err
		}
	default:
		return nil, errs.Invalidf("file must be CATALOG_FILE_PRODUCTS or CATALOG_FILE_STOCK")
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if res.Problems = im.result(); len(res.Problems) > 0 || req.GetDryRun() {
		return res, nil
	}
	res.Applied = true
	err := s.store.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := apply(ctx, tx); err != nil {
			return err
		}
		stored, err := protojson.Marshal(res)
		if err != nil {
			return err
		}
		_, err = tx.NewInsert().Model(&catalogImportRow{
			SHA256: hash, File: int32(req.GetFile()), Actor: actor(ctx), Result: string(stored), CreatedAt: micros(s.now()),
		}).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return errs.Abortedf("this file is being imported by another request; retry to see its result")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.invalidate(ctx)
	return res, nil
}

// checkProductRows checks every row of a products file and groups them into
// products; problems go to im.
func (s *Service) checkProductRows(ctx context.Context, im *importer, rows []csvRow) []*importedProduct {
	cats, _, err := s.store.categories(ctx, true)
	if err != nil {
		im.add(0, "", "cannot read the categories; try again")
		return nil
	}
	archivedCat := map[string]bool{}
	for _, c := range cats {
		archivedCat[c.Slug] = c.ArchivedAt != 0
	}
	var order []string
	bySlug := map[string]*importedProduct{}
	skuLine := map[string]int{}
	skuSlug := map[string]string{}
	for _, r := range rows {
		c := r.cells
		bad := func(column, format string, args ...any) { im.add(r.line, column, format, args...) }
		slug := c["slug"]
		if !slugPattern.MatchString(slug) || len(slug) > 120 {
			bad("slug", "%q is not a slug: lower-case letters, digits and single dashes, at most 120", slug)
			continue
		}
		status := productv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED
		for st, name := range statusNames {
			if strings.EqualFold(c["status"], name) {
				status = st
			}
		}
		if c["status"] == "" {
			status = productv1.ProductStatus_PRODUCT_STATUS_ACTIVE
		}
		if status == productv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED {
			bad("status", "%q is not active, draft or archived", c["status"])
		}
		if archived, ok := archivedCat[c["category"]]; !ok {
			bad("category", "no category %q", c["category"])
		} else if archived {
			bad("category", "category %q is archived", c["category"])
		}
		sku := c["sku"]
		if !skuPattern.MatchString(sku) || len(sku) > 64 {
			bad("sku", "%q is not a SKU: letters, digits, '.', '_' and '-', at most 64", sku)
		} else if first, dup := skuLine[sku]; dup {
			bad("sku", "SKU %q is also on line %d", sku, first)
		} else {
			skuLine[sku], skuSlug[sku] = r.line, slug
		}
		price, err := parsePrice(c["price"], s.currency)
		if err != nil {
			bad("price", "not a price in %s: %v", s.currency, err)
		}
		var grams int64
		if c["weight_grams"] != "" {
			if grams, err = strconv.ParseInt(c["weight_grams"], 10, 64); err != nil || grams < 0 || grams > 1000000 {
				bad("weight_grams", "%q is not a whole number of grams from 0 to 1000000", c["weight_grams"])
			}
		}
		opts, err := parseOptions(c["options"])
		if err != nil {
			bad("options", "%v", err)
		}
		p, seen := bySlug[slug]
		if !seen {
			p = &importedProduct{line: r.line, status: status, req: &productv1.CreateProductRequest{
				Slug: slug, Title: c["title"], Description: c["description"], Brand: c["brand"], Category: c["category"],
			}}
			if status != productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED {
				p.req.Status = status
			}
			bySlug[slug] = p
			order = append(order, slug)
		} else {
			for _, col := range []struct{ name, was string }{
				{"title", p.req.Title}, {"description", p.req.Description}, {"brand", p.req.Brand}, {"category", p.req.Category},
			} {
				if c[col.name] != col.was {
					bad(col.name, "differs from line %d, the first row of product %q", p.line, slug)
				}
			}
			if status != p.status {
				bad("status", "differs from line %d, the first row of product %q", p.line, slug)
			}
		}
		p.req.Variants = append(p.req.Variants, &productv1.Variant{
			Sku: sku, Title: c["variant_title"], Options: opts, Price: &typev1.Money{Amount: price, Currency: s.currency}, WeightGrams: grams,
		})
	}
	// The rules of CreateProduct, per product, reported on its first row.
	for _, slug := range order {
		p := bySlug[slug]
		err := protovalidate.Validate(p.req)
		var verr *protovalidate.ValidationError
		if errors.As(err, &verr) {
			for _, v := range verr.Violations {
				im.add(p.line, columnOf(protovalidate.FieldPathString(v.Proto.GetField())), "%s", v.Proto.GetMessage())
			}
		}
	}
	// A SKU may move only within its product.
	if len(skuSlug) > 0 {
		owners, err := s.store.skuOwners(ctx, slices.Collect(maps.Keys(skuSlug)))
		if err != nil {
			im.add(0, "", "cannot read the SKUs; try again")
			return nil
		}
		for sku, slug := range skuSlug {
			if owner, ok := owners[sku]; ok && owner != slug {
				im.add(skuLine[sku], "sku", "SKU %q belongs to product %q", sku, owner)
			}
		}
		slices.SortStableFunc(im.problems, func(a, b *productv1.ImportProblem) int { return int(a.Line - b.Line) })
	}
	out := make([]*importedProduct, len(order))
	for i, slug := range order {
		out[i] = bySlug[slug]
	}
	return out
}

// columnOf maps a CreateProductRequest field path to the CSV column.
func columnOf(path string) string {
	switch {
	case strings.HasPrefix(path, "variants") && strings.Contains(path, ".title"):
		return "variant_title"
	case strings.HasPrefix(path, "variants") && strings.Contains(path, ".options"):
		return "options"
	case strings.HasPrefix(path, "variants") && strings.Contains(path, ".price"):
		return "price"
	case strings.HasPrefix(path, "variants") && strings.Contains(path, ".weight_grams"):
		return "weight_grams"
	case strings.HasPrefix(path, "variants") && strings.Contains(path, ".sku"):
		return "sku"
	case strings.HasPrefix(path, "variants"):
		return "sku"
	}
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// applyProducts creates or updates (by slug) every product, in tx.
func (s *Service) applyProducts(ctx context.Context, tx bun.Tx, products []*importedProduct) (created, updated int64, err error) {
	now := micros(s.now())
	var ids []string
	for _, p := range products {
		row := new(productRow)
		q := tx.NewSelect().Model(row).Relation("Variants", orderVariants).Where("p.slug = ?", p.req.GetSlug())
		if db.IsPostgres(s.store.db) {
			q.For("UPDATE OF p")
		}
		err := q.Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			row, err := s.newProductRow(p.req, false)
			if err != nil {
				return 0, 0, err
			}
			row.Status = int32(p.status)
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return 0, 0, fmt.Errorf("insert product %q: %w", row.Slug, err)
			}
			if err := insertVariants(ctx, tx, row.Variants); err != nil {
				return 0, 0, err
			}
			ids = append(ids, row.ID)
			created++
		case err != nil:
			return 0, 0, fmt.Errorf("read product %q: %w", p.req.GetSlug(), err)
		default:
			row.Title, row.Description, row.Brand, row.Category = p.req.GetTitle(), p.req.GetDescription(), p.req.GetBrand(), p.req.GetCategory()
			row.Status = int32(p.status)
			if err := s.setVariants(row, p.req.GetVariants(), false); err != nil {
				return 0, 0, err
			}
			row.Version++
			row.UpdatedAt = now
			if _, err := tx.NewUpdate().Model(row).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
				return 0, 0, fmt.Errorf("update product %q: %w", row.Slug, err)
			}
			if err := replaceVariants(ctx, tx, row); err != nil {
				return 0, 0, err
			}
			ids = append(ids, row.ID)
			updated++
		}
	}
	return created, updated, s.store.changed(ctx, tx, ids...)
}

// stockTarget is one row of a stock file.
type stockTarget struct {
	sku    string
	onHand int64
}

// checkStockRows checks every row of a stock file; problems go to im.
func (s *Service) checkStockRows(ctx context.Context, im *importer, rows []csvRow) []stockTarget {
	seen := map[string]int{}
	var out []stockTarget
	for _, r := range rows {
		sku := r.cells["sku"]
		n, err := strconv.ParseInt(r.cells["on_hand"], 10, 64)
		if err != nil || n < 0 || n > 1000000000 {
			im.add(r.line, "on_hand", "%q is not a whole number of units from 0 to 1000000000", r.cells["on_hand"])
		}
		if first, dup := seen[sku]; dup {
			im.add(r.line, "sku", "SKU %q is also on line %d", sku, first)
			continue
		}
		seen[sku] = r.line
		out = append(out, stockTarget{sku: sku, onHand: n})
	}
	if len(seen) > 0 {
		owners, err := s.store.skuOwners(ctx, slices.Collect(maps.Keys(seen)))
		if err != nil {
			im.add(0, "", "cannot read the SKUs; try again")
			return nil
		}
		for sku, line := range seen {
			if _, ok := owners[sku]; !ok {
				im.add(line, "sku", "no SKU %q", sku)
			}
		}
		slices.SortStableFunc(im.problems, func(a, b *productv1.ImportProblem) int { return int(a.Line - b.Line) })
	}
	return out
}

// applyStock sets each SKU's stock, recording the change in the ledger. It
// returns how many SKUs changed.
func (s *Service) applyStock(ctx context.Context, tx bun.Tx, levels []stockTarget, reason, who string) (int64, error) {
	now := micros(s.now())
	var changed int64
	var products []string
	for _, l := range levels {
		v := new(variantRow)
		if err := tx.NewSelect().Model(v).Column("sku", "product_id", "stock").Where("sku = ?", l.sku).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return 0, errs.FailedPreconditionf("SKU %q was removed during the import; import again", l.sku)
			}
			return 0, fmt.Errorf("read stock of %q: %w", l.sku, err)
		}
		delta := l.onHand - v.Stock
		if delta == 0 {
			continue
		}
		if _, err := tx.NewUpdate().Model((*variantRow)(nil)).Set("stock = ?", l.onHand).Where("sku = ?", l.sku).Exec(ctx); err != nil {
			return 0, fmt.Errorf("set stock of %q: %w", l.sku, err)
		}
		m := &stockMovementRow{ID: newID(), SKU: l.sku, Delta: delta, Reason: reason, OnHandAfter: l.onHand, CreatedAt: now, Actor: who}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return 0, fmt.Errorf("record stock movement: %w", err)
		}
		changed++
		if (v.Stock > 0) != (l.onHand > 0) {
			products = append(products, v.ProductID)
		}
	}
	return changed, s.store.changed(ctx, tx, products...)
}

type catalogImportRow struct {
	bun.BaseModel `bun:"table:catalog_imports,alias:ci"`

	SHA256    string `bun:"sha256,pk"`
	File      int32
	Actor     string
	Result    string // protojson of the ImportCatalogResponse
	CreatedAt int64
}

// catalogImport is the result of the import of the file with this hash, as
// a replay, or nil if it was never imported.
func (s *store) catalogImport(ctx context.Context, hash string) (*productv1.ImportCatalogResponse, error) {
	row := new(catalogImportRow)
	err := s.db.NewSelect().Model(row).Where("ci.sha256 = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read catalog import: %w", err)
	}
	res := new(productv1.ImportCatalogResponse)
	if err := protojson.Unmarshal([]byte(row.Result), res); err != nil {
		return nil, fmt.Errorf("read catalog import %s: %w", hash, err)
	}
	res.Replayed = true
	return res, nil
}

// skuOwners maps each of skus that exists to its product's slug.
func (s *store) skuOwners(ctx context.Context, skus []string) (map[string]string, error) {
	out := make(map[string]string, len(skus))
	for chunk := range slices.Chunk(skus, 500) {
		var rows []struct {
			SKU  string `bun:"sku"`
			Slug string
		}
		err := s.db.NewSelect().TableExpr("variants AS v").ColumnExpr("v.sku, p.slug").
			Join("JOIN products AS p ON p.id = v.product_id").
			Where("v.sku IN (?)", bun.List(chunk)).Scan(ctx, &rows)
		if err != nil {
			return nil, fmt.Errorf("read SKU owners: %w", err)
		}
		for _, r := range rows {
			out[r.SKU] = r.Slug
		}
	}
	return out, nil
}
