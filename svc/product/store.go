package product

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the product service. It works the same on
// SQLite and PostgreSQL.
type store struct {
	db *bun.DB
	// changed is called, in the transaction of a write, with the products
	// whose search document it changes (the service's queueIndex).
	changed func(ctx context.Context, tx bun.Tx, ids ...string) error
}

var active = int32(productv1.ProductStatus_PRODUCT_STATUS_ACTIVE)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (s *store) categories(ctx context.Context, includeArchived bool) ([]categoryRow, map[string]int64, error) {
	var cats []categoryRow
	q := s.db.NewSelect().Model(&cats).Order("c.position", "c.slug")
	if !includeArchived {
		q.Where("c.archived_at = 0")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list categories: %w", err)
	}
	var counts []struct {
		Category string
		N        int64
	}
	err := s.db.NewSelect().Model((*productRow)(nil)).
		ColumnExpr("p.category, count(*) AS n").
		Where("p.status = ?", active).
		Group("p.category").
		Scan(ctx, &counts)
	if err != nil {
		return nil, nil, fmt.Errorf("count products per category: %w", err)
	}
	byCat := make(map[string]int64, len(counts))
	for _, c := range counts {
		byCat[c.Category] = c.N
	}
	return cats, byCat, nil
}

func (s *store) categoryNames(ctx context.Context) (map[string]string, error) {
	var cats []categoryRow
	if err := s.db.NewSelect().Model(&cats).Column("slug", "name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read category names: %w", err)
	}
	names := make(map[string]string, len(cats))
	for _, c := range cats {
		names[c.Slug] = c.Name
	}
	return names, nil
}

// checkCategory fails with failed_precondition unless slug is a category
// products may be put in: one that exists and is not archived.
func (s *store) checkCategory(ctx context.Context, idb bun.IDB, slug string) error {
	var archivedAt int64
	err := idb.NewSelect().Model((*categoryRow)(nil)).Column("archived_at").Where("c.slug = ?", slug).Scan(ctx, &archivedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errs.FailedPreconditionf("category %q does not exist", slug)
	case err != nil:
		return fmt.Errorf("read category %q: %w", slug, err)
	case archivedAt != 0:
		return errs.FailedPreconditionf("category %q is archived: restore it first", slug)
	}
	return nil
}

// upsertCategories creates or renames categories; positions follow the order
// given. The products of a renamed category are queued for the search index
// (their documents carry the category's name), in the same transaction.
func (s *store) upsertCategories(ctx context.Context, cats []categoryRow) error {
	if len(cats) == 0 {
		return nil
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var renamed []string
		for _, c := range cats {
			var name string
			err := tx.NewSelect().Model((*categoryRow)(nil)).Column("name").Where("slug = ?", c.Slug).Scan(ctx, &name)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("read category %q: %w", c.Slug, err)
			case name != c.Name:
				renamed = append(renamed, c.Slug)
			}
		}
		_, err := tx.NewInsert().Model(&cats).
			On("CONFLICT (slug) DO UPDATE").
			Set("name = EXCLUDED.name").
			Set("description = EXCLUDED.description").
			Set("position = EXCLUDED.position").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("upsert categories: %w", err)
		}
		if len(renamed) == 0 {
			return nil
		}
		var ids []string
		if err := tx.NewSelect().Model((*productRow)(nil)).Column("id").
			Where("category IN (?)", bun.List(renamed)).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("products of renamed categories: %w", err)
		}
		return s.changed(ctx, tx, ids...)
	})
}

func (s *store) product(ctx context.Context, column, value string) (*productRow, error) {
	row := new(productRow)
	err := s.db.NewSelect().Model(row).
		Relation("Variants", orderVariants).
		Where("p."+column+" = ?", value).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("product %s %q not found", column, value)
	}
	if err != nil {
		return nil, fmt.Errorf("get product: %w", err)
	}
	return row, nil
}

func orderVariants(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("v.position") }

// listFilter narrows ListProducts.
type listFilter struct {
	Category        string
	MinPrice        *int64
	MaxPrice        *int64
	InStockOnly     bool
	IncludeInactive bool // every status, for reindexing
	Sort            productv1.ProductSort
	After           *listCursor // keyset position, nil for the first page
	Limit           int
}

func (s *store) listProducts(ctx context.Context, f listFilter) ([]*productRow, error) {
	var rows []*productRow
	if err := s.listQuery(&rows, f).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return rows, nil
}

// listQuery is the query of listProducts into rows (the test reads its plan).
func (s *store) listQuery(rows *[]*productRow, f listFilter) *bun.SelectQuery {
	q := s.db.NewSelect().Model(rows).Relation("Variants", orderVariants)
	if !f.IncludeInactive {
		q.Where("p.status = ?", active)
	}
	if f.Category != "" {
		q.Where("p.category = ?", f.Category)
	}
	// Unless the list is sorted by price, the price bounds filter the rows
	// of the sort's index rather than choose the index: on SQLite (no
	// statistics) a price range otherwise wins over the sort's index, and
	// every page, the first included, reads the whole range and sorts it
	// (260 ms for page 1 of a category in a 100,000-product catalog).
	// Walking the sort's index stops after a page of matches. The unary +
	// is SQLite's documented way to keep a term from using an index;
	// PostgreSQL weighs the two plans with its statistics.
	price := "p.price"
	if key := sortKeys[f.Sort]; key.column != "p.price" && !db.IsPostgres(s.db) {
		price = "+p.price"
	}
	if f.MinPrice != nil {
		q.Where(price+" >= ?", *f.MinPrice)
	}
	if f.MaxPrice != nil {
		q.Where(price+" <= ?", *f.MaxPrice)
	}
	if f.InStockOnly {
		q.Where("EXISTS (SELECT 1 FROM variants AS iv WHERE iv.product_id = p.id AND iv.stock > 0)")
	}
	key := sortKeys[f.Sort]
	if f.After != nil {
		op := ">"
		if key.desc {
			op = "<"
		}
		// A row-value comparison, not "col < ? OR (col = ? AND p.id < ?)":
		// both engines seek the sort index to the cursor with it, where
		// PostgreSQL reads the OR as a filter over every earlier row of the
		// index, so page 1,000 read the 999 pages before it.
		q.Where(fmt.Sprintf("(%s, p.id) %s (?, ?)", key.column, op), f.After.value(), f.After.ID)
	}
	dir := " ASC"
	if key.desc {
		dir = " DESC"
	}
	return q.Order(key.column+dir, "p.id"+dir).Limit(int64(f.Limit))
}

// productsInIDOrder reads up to limit products in any state, with their
// variants, in primary key order from the first id after afterID: the
// reindex's walk of the whole table. Each page is a range read of the
// primary key; the listing's newest-first order would sort the whole table
// again for every page, as no index leads with created_at alone.
func (s *store) productsInIDOrder(ctx context.Context, afterID string, limit int) ([]*productRow, error) {
	var rows []*productRow
	err := s.db.NewSelect().Model(&rows).Relation("Variants", orderVariants).
		Where("p.id > ?", afterID).OrderExpr("p.id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read products by id: %w", err)
	}
	return rows, nil
}

// createProduct inserts a product and its variants in one transaction.
func (s *store) createProduct(ctx context.Context, row *productRow) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.checkCategory(ctx, tx, row.Category); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Conflictf("a product with slug %q already exists", row.Slug)
			}
			return fmt.Errorf("insert product: %w", err)
		}
		if err := insertVariants(ctx, tx, row.Variants); err != nil {
			return err
		}
		return s.changed(ctx, tx, row.ID)
	})
}

func insertVariants(ctx context.Context, tx bun.Tx, variants []*variantRow) error {
	if len(variants) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&variants).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return errs.Conflictf("a SKU of this product is already used by another product")
		}
		return fmt.Errorf("insert variants: %w", err)
	}
	return nil
}

// updateProduct reads the product inside a transaction, lets mutate change
// it, and writes it back with a new version. expectVersion > 0 turns a
// concurrent change into errs.Aborted instead of a lost update.
func (s *store) updateProduct(ctx context.Context, id string, expectVersion int64, mutate func(*productRow) (variantsChanged bool, err error)) (*productRow, error) {
	return s.updateProductThen(ctx, id, expectVersion, mutate, nil)
}

// updateProductThen is updateProduct that also runs then, when not nil, in
// the same transaction after the product is written.
func (s *store) updateProductThen(ctx context.Context, id string, expectVersion int64, mutate func(*productRow) (variantsChanged bool, err error),
	then func(ctx context.Context, tx bun.Tx, row *productRow) error) (*productRow, error) {
	var out *productRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		row := new(productRow)
		q := tx.NewSelect().Model(row).Relation("Variants", orderVariants).Where("p.id = ?", id)
		if db.IsPostgres(s.db) {
			q.For("UPDATE OF p")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("product %q not found", id)
			}
			return fmt.Errorf("read product: %w", err)
		}
		if expectVersion > 0 && row.Version != expectVersion {
			return errs.Abortedf("product %q was changed by someone else (etag %s, now %s): read it again", id, etag(expectVersion), etag(row.Version))
		}
		oldCategory := row.Category
		variantsChanged, err := mutate(row)
		if err != nil {
			return err
		}
		if row.Category != oldCategory {
			if err := s.checkCategory(ctx, tx, row.Category); err != nil {
				return err
			}
		}
		row.Version++
		if _, err := tx.NewUpdate().Model(row).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Conflictf("a product with slug %q already exists", row.Slug)
			}
			return fmt.Errorf("update product: %w", err)
		}
		if variantsChanged {
			if err := replaceVariants(ctx, tx, row); err != nil {
				return err
			}
		}
		if then != nil {
			if err := then(ctx, tx, row); err != nil {
				return err
			}
		}
		out = row
		return s.changed(ctx, tx, row.ID)
	})
	return out, err
}

// replaceVariants makes the stored variants of row equal row.Variants,
// keeping the stock of SKUs that stay.
func replaceVariants(ctx context.Context, tx bun.Tx, row *productRow) error {
	skus := make([]string, 0, len(row.Variants))
	for _, v := range row.Variants {
		skus = append(skus, v.SKU)
	}
	if _, err := tx.NewDelete().Model((*variantRow)(nil)).
		Where("product_id = ?", row.ID).
		Where("sku NOT IN (?)", bun.List(skus)).
		Exec(ctx); err != nil {
		return fmt.Errorf("remove variants: %w", err)
	}
	_, err := tx.NewInsert().Model(&row.Variants).
		On("CONFLICT (sku) DO UPDATE").
		Set("position = EXCLUDED.position").
		Set("title = EXCLUDED.title").
		Set("options = EXCLUDED.options").
		Set("price = EXCLUDED.price").
		Set("currency = EXCLUDED.currency").
		Where("v.product_id = EXCLUDED.product_id").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert variants: %w", err)
	}
	// A SKU owned by another product is left untouched by the guarded upsert
	// above; detect it rather than silently dropping the variant.
	n, err := tx.NewSelect().Model((*variantRow)(nil)).Where("product_id = ?", row.ID).Count(ctx)
	if err != nil {
		return fmt.Errorf("count variants: %w", err)
	}
	if n != int64(len(row.Variants)) {
		return errs.Conflictf("a SKU of this product is already used by another product")
	}
	return nil
}

// stockLevels returns the stock of skus in the order given.
func (s *store) stockLevels(ctx context.Context, skus []string) ([]*variantRow, error) {
	var rows []*variantRow
	if err := s.db.NewSelect().Model(&rows).Column("sku", "product_id", "stock").
		Where("sku IN (?)", bun.List(skus)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	bySKU := make(map[string]*variantRow, len(rows))
	for _, r := range rows {
		bySKU[r.SKU] = r
	}
	out := make([]*variantRow, 0, len(skus))
	for _, sku := range skus {
		r, ok := bySKU[sku]
		if !ok {
			return nil, errs.NotFoundf("SKU %q not found", sku)
		}
		out = append(out, r)
	}
	return out, nil
}

// stockChange is one AdjustStock.
type stockChange struct {
	SKU            string
	Delta          int64
	Reason         string
	IdempotencyKey string
	RequestHash    string
	At             int64
	Actor          string
}

// adjustStock applies a stock change atomically: the guarded UPDATE never
// lets stock fall below zero, whatever runs beside it, and the ledger row
// makes a retried change with the same idempotency key a no-op.
func (s *store) adjustStock(ctx context.Context, c stockChange) (level *variantRow, replayed bool, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if c.IdempotencyKey != "" {
			prev, err := movementByKey(ctx, tx, c.IdempotencyKey)
			if err != nil {
				return err
			}
			if prev != nil {
				if prev.RequestHash != c.RequestHash {
					return errs.Conflictf("idempotency_key %q was already used for a different stock change", c.IdempotencyKey)
				}
				level, replayed = &variantRow{SKU: prev.SKU, Stock: prev.OnHandAfter}, true
				return tx.NewSelect().Model((*variantRow)(nil)).Column("product_id").
					Where("sku = ?", prev.SKU).Scan(ctx, &level.ProductID)
			}
		}
		v := new(variantRow)
		err := tx.NewUpdate().Model(v).
			Set("stock = stock + ?", c.Delta).
			Where("sku = ?", c.SKU).
			Where("stock + ? >= 0", c.Delta).
			Returning("sku, product_id, stock").
			Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return stockRefusal(ctx, tx, c)
		}
		if err != nil {
			return fmt.Errorf("adjust stock: %w", err)
		}
		m := &stockMovementRow{
			ID: newID(), SKU: c.SKU, Delta: c.Delta, Reason: c.Reason,
			OnHandAfter: v.Stock, RequestHash: c.RequestHash, CreatedAt: c.At, Actor: c.Actor,
		}
		if c.IdempotencyKey != "" {
			m.IdempotencyKey = &c.IdempotencyKey
		}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Abortedf("a request with idempotency_key %q is in progress; retry", c.IdempotencyKey)
			}
			return fmt.Errorf("record stock movement: %w", err)
		}
		level = v
		if before := v.Stock - c.Delta; (before > 0) != (v.Stock > 0) {
			// The product came into or went out of stock: its search
			// document changes.
			return s.changed(ctx, tx, v.ProductID)
		}
		return nil
	})
	return level, replayed, err
}

func movementByKey(ctx context.Context, tx bun.Tx, key string) (*stockMovementRow, error) {
	m := new(stockMovementRow)
	err := tx.NewSelect().Model(m).Where("idempotency_key = ?", key).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read stock movement: %w", err)
	}
	return m, nil
}

// stockRefusal explains why a guarded stock update changed nothing.
func stockRefusal(ctx context.Context, tx bun.Tx, c stockChange) error {
	var onHand int64
	err := tx.NewSelect().Model((*variantRow)(nil)).Column("stock").Where("sku = ?", c.SKU).Scan(ctx, &onHand)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("SKU %q not found", c.SKU)
	}
	if err != nil {
		return fmt.Errorf("read stock: %w", err)
	}
	return errs.FailedPreconditionf("not enough stock of %q: %d on hand, cannot remove %d", c.SKU, onHand, -c.Delta)
}

// countProducts is the number of products in any state.
func (s *store) countProducts(ctx context.Context) (int64, error) {
	return s.db.NewSelect().Model((*productRow)(nil)).Count(ctx)
}

// countActive is the number of active products, to tell whether the search
// index is complete.
func (s *store) countActive(ctx context.Context) (int64, error) {
	return s.db.NewSelect().Model((*productRow)(nil)).Where("p.status = ?", active).Count(ctx)
}

func (s *store) productsByID(ctx context.Context, ids []string) (map[string]*productRow, error) {
	if len(ids) == 0 {
		return map[string]*productRow{}, nil
	}
	var rows []*productRow
	if err := s.db.NewSelect().Model(&rows).Relation("Variants", orderVariants).
		Where("p.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("get products: %w", err)
	}
	out := make(map[string]*productRow, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// variantsBySKU reads the variants of skus with the product fields a cart
// shows; a SKU that does not exist is left out.
func (s *store) variantsBySKU(ctx context.Context, skus []string) ([]*variantInfoRow, error) {
	var rows []*variantInfoRow
	a := db.NewArgs(s.db)
	q := s.db.NewSelect().Model(&rows).
		ColumnExpr("v.*").
		ColumnExpr("p.slug, p.title AS product_title, p.status, p.images").
		Join("JOIN products AS p ON p.id = v.product_id")
	if len(skus) == 1 {
		// Every AddItem, and the Checkout of a cart of one SKU: with its
		// argument apart (db.Args), PostgreSQL prepares the statement once
		// per connection and keeps its plan, the costliest of a checkout
		// to make. (For several SKUs it would plan each run anyway.)
		q.Where("v.sku = ?", a.Arg(skus[0]))
	} else {
		q.Where("v.sku IN (?)", bun.List(skus))
	}
	if err := a.Scan(ctx, s.db, q, &rows); err != nil {
		return nil, fmt.Errorf("look up variants: %w", err)
	}
	return rows, nil
}
