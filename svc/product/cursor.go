package product

import (
	"fmt"
	"hash/fnv"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

// sortKey is the column a ListProducts sort orders by; p.id breaks ties.
type sortKey struct {
	column string
	desc   bool
	text   bool // the column holds text, not an integer
}

var sortKeys = map[productv1.ProductSort]sortKey{
	productv1.ProductSort_PRODUCT_SORT_UNSPECIFIED: {column: "p.created_at", desc: true},
	productv1.ProductSort_PRODUCT_SORT_NEWEST:      {column: "p.created_at", desc: true},
	productv1.ProductSort_PRODUCT_SORT_PRICE_ASC:   {column: "p.price"},
	productv1.ProductSort_PRODUCT_SORT_PRICE_DESC:  {column: "p.price", desc: true},
	productv1.ProductSort_PRODUCT_SORT_TITLE:       {column: "p.title", text: true},
}

// listCursor is the keyset position after the last product of a page. It
// travels as an opaque, URL-safe page_token bound to the request's filters.
type listCursor struct {
	Int    int64  `json:"i,omitempty"`
	Text   string `json:"t,omitempty"`
	ID     string `json:"id"`
	Filter uint64 `json:"f"`
}

func (c *listCursor) value() any {
	if c.Text != "" {
		return c.Text
	}
	return c.Int
}

// fits reports whether c could have been made by cursorAfter for sort: its
// position has the sort column's type. Page tokens are not signed, so the
// store sees only cursors that fit (paging.Decode already refuses NULs).
func (c *listCursor) fits(sort productv1.ProductSort) bool {
	if sortKeys[sort].text {
		return c.Text != "" && c.Int == 0 && c.ID != ""
	}
	return c.Text == "" && c.ID != ""
}

func cursorAfter(row *productRow, sort productv1.ProductSort, filter uint64) *listCursor {
	c := &listCursor{ID: row.ID, Filter: filter}
	switch sortKeys[sort].column {
	case "p.created_at":
		c.Int = row.CreatedAt
	case "p.price":
		c.Int = row.Price
	case "p.title":
		c.Text = row.Title
	}
	return c
}

// filterHash binds a page token to the request that made it, so a token is
// never silently applied to other filters or another sort.
func filterHash(req *productv1.ListProductsRequest) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q|%v|%v|%v|%d", req.GetCategory(), optional(req.MinPrice), optional(req.MaxPrice), req.GetInStockOnly(), req.GetSort())
	return h.Sum64()
}

func optional(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// searchCursor pages SearchProducts by offset.
type searchCursor struct {
	Offset int    `json:"o"`
	Query  uint64 `json:"q"`
	// SearchID is the first page's search id: later pages are the same
	// search for analytics, recorded once.
	SearchID string `json:"s,omitempty"`
}

func searchHash(req *productv1.SearchProductsRequest) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q|%q|%q|%q", req.GetQuery(), req.GetCategory(), req.GetBrand(), req.GetPriceBand())
	return h.Sum64()
}
