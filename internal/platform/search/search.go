// Package search is the port for the catalog's full-text search. The
// embedded default is a Bleve index on disk (package search/bleve); an
// Elasticsearch adapter implements the same interface and passes the same
// contract suite (package search/searchtest).
package search

import (
	"context"
	"time"
)

// Document is what the index holds of one active product. The database stays
// the source of truth; the index can always be rebuilt from it.
type Document struct {
	ID           string
	Slug         string
	Title        string
	Description  string
	Brand        string
	Category     string // slug, the facet value
	CategoryName string // for matching and labels
	Attributes   string // attribute values as text, e.g. "cotton slim fit"
	Price        int64  // lowest variant price, minor units
	InStock      bool
	Created      time.Time
}

// Query is one search. Text is required; the filters narrow the matches to a
// facet value each.
type Query struct {
	Text      string
	Category  string // facet value of "category"
	Brand     string // facet value of "brand"
	PriceBand string // facet value of "price", a PriceBand.Key
	Offset    int
	Limit     int
}

// Hit is one match, best first.
type Hit struct {
	ID    string
	Score float64
	// Highlights maps a field ("title", "description") to fragments where
	// every match is wrapped in <mark></mark> and all other text is
	// HTML-escaped.
	Highlights map[string][]string
}

// FacetValue is one bucket of a facet.
type FacetValue struct {
	Value string // pass back in Query
	Label string
	Count int64
}

// Facet counts the matches of the whole query (not only the page) per value.
type Facet struct {
	Name   string // "category", "brand" or "price"
	Values []FacetValue
}

// Result of a Query.
type Result struct {
	Hits   []Hit
	Total  int64
	Facets []Facet // always category, brand and price, in that order
}

// Index is the port.
type Index interface {
	// Index adds or replaces documents by ID.
	Index(ctx context.Context, docs ...Document) error
	// Delete removes documents; unknown IDs are ignored.
	Delete(ctx context.Context, ids ...string) error
	// Search runs a query: words match with typo tolerance (an edit or two,
	// by word length), results come in relevance order, facets count every
	// match.
	Search(ctx context.Context, q Query) (Result, error)
	// Count is the number of documents.
	Count(ctx context.Context) (int64, error)
	// Reset removes every document.
	Reset(ctx context.Context) error
	Close() error
}

// PriceBand is a fixed bucket of the "price" facet, in minor units; Max is
// exclusive and 0 means no upper bound.
type PriceBand struct {
	Key      string
	Label    string
	Min, Max int64
}

// PriceBands are the price facet's buckets, in the shop currency.
var PriceBands = []PriceBand{
	{Key: "0-25", Label: "Under 25", Min: 0, Max: 2500},
	{Key: "25-50", Label: "25 to 50", Min: 2500, Max: 5000},
	{Key: "50-100", Label: "50 to 100", Min: 5000, Max: 10000},
	{Key: "100-200", Label: "100 to 200", Min: 10000, Max: 20000},
	{Key: "200-", Label: "200 and up", Min: 20000, Max: 0},
}

// BandByKey finds a price band.
func BandByKey(key string) (PriceBand, bool) {
	for _, b := range PriceBands {
		if b.Key == key {
			return b, true
		}
	}
	return PriceBand{}, false
}
