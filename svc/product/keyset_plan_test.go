package product

import (
	"strings"
	"testing"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// TestDeepPageSeeksTheIndex reads the plan of a ListProducts page after a
// cursor on both engines: the cursor must bound the index range (SQLite:
// "(created_at,id)<(?,?)" in the SEARCH; PostgreSQL: an Index Cond on
// ROW(created_at, id)), not filter the rows before it, or page 1,000 reads
// the 999 pages before it.
func TestDeepPageSeeksTheIndex(t *testing.T) {
	t.Parallel()
	lo, hi := int64(1000), int64(5000)
	cases := []struct {
		name     string
		f        listFilter
		index    string
		sqlite   string // in the SEARCH line of EXPLAIN QUERY PLAN
		postgres string // in PostgreSQL's Index Cond
	}{
		{
			name:     "category, price and in stock, newest",
			f:        listFilter{Category: "jackets", MinPrice: &lo, MaxPrice: &hi, InStockOnly: true, After: &listCursor{Int: 1700000000000000, ID: "01a2"}},
			index:    "products_category_newest",
			sqlite:   "(category=? AND status=? AND (created_at,id)<(?,?))",
			postgres: "(ROW(created_at, id) < ROW(",
		},
		{
			// The first page: no cursor, the category's index in order,
			// not the price range sorted (SQLite only: an empty table
			// tells nothing of PostgreSQL's choice, made on statistics).
			name:   "first page, category, price and in stock, newest",
			f:      listFilter{Category: "jackets", MinPrice: &lo, MaxPrice: &hi, InStockOnly: true},
			index:  "products_category_newest",
			sqlite: "(category=? AND status=?)",
		},
		{
			name:     "price and in stock, newest",
			f:        listFilter{MinPrice: &lo, MaxPrice: &hi, InStockOnly: true, After: &listCursor{Int: 1700000000000000, ID: "01a2"}},
			index:    "products_newest",
			sqlite:   "(status=? AND (created_at,id)<(?,?))",
			postgres: "(ROW(created_at, id) < ROW(",
		},
		{
			name:     "price ascending",
			f:        listFilter{Sort: productv1.ProductSort_PRODUCT_SORT_PRICE_ASC, After: &listCursor{Int: 2500, ID: "01a2"}},
			index:    "products_price",
			sqlite:   "(status=? AND (price,id)>(?,?))",
			postgres: "(ROW(price, id) > ROW(",
		},
		{
			name:     "title",
			f:        listFilter{Sort: productv1.ProductSort_PRODUCT_SORT_TITLE, After: &listCursor{Text: "Harbor Mug", ID: "01a2"}},
			index:    "products_title",
			sqlite:   "(status=? AND (title,id)>(?,?))",
			postgres: "(ROW(title, id) > ROW(",
		},
	}
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		d := dbtest.Open(t, engine, "product", Migrations)
		s := &store{db: d}
		for _, c := range cases {
			c.f.Limit = 21
			var rows []*productRow
			query := s.listQuery(&rows, c.f).String()
			plan := dbtest.Plan(t, d, query)
			if engine == "postgres" && c.postgres == "" {
				continue
			}
			if !seeksTheIndex(engine, plan, c.index, c.sqlite, c.postgres) {
				t.Errorf("%s: the page is not read in order from %s, from the cursor on:\n%s\nplan:\n%s", c.name, c.index, query, strings.Join(plan, "\n"))
			}
		}
	})
}

// seeksTheIndex reports whether plan scans index with the cursor in its
// range: on SQLite the SEARCH line of index ends with sqlite and nothing is
// sorted in a temporary B-tree; on PostgreSQL the Index Cond right after the
// scan of index has postgres.
func seeksTheIndex(engine string, plan []string, index, sqlite, postgres string) bool {
	found := false
	for i, line := range plan {
		if engine == "sqlite" {
			if strings.Contains(line, "TEMP B-TREE") {
				return false // sorted after reading, not read in order
			}
			if strings.HasPrefix(line, "SEARCH p USING INDEX "+index+" ") && strings.HasSuffix(line, sqlite) {
				found = true
			}
			continue
		}
		if strings.Contains(line, "using "+index+" on products p") && i+1 < len(plan) &&
			strings.HasPrefix(plan[i+1], "Index Cond:") && strings.Contains(plan[i+1], postgres) {
			return true
		}
	}
	return found
}
