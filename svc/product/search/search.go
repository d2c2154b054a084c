// Package search is the catalog's full-text search port: the documents the
// product service indexes and the queries it asks. It has two adapters, held
// to one contract suite (package search/searchtest): a Bleve index on disk
// (package search/bleve, the embedded default) and Elasticsearch (package
// search/elastic, shared by every product replica).
package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// ErrUnavailable is wrapped by an adapter's errors when its backend cannot
// answer for now (unreachable, overloaded, shutting down): the caller should
// retry later. The product service answers searches with `unavailable` then,
// and index jobs retry.
var ErrUnavailable = errors.New("search backend unavailable")

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
	// Version orders the changes of one product: an adapter shared by
	// several writers (Elasticsearch) keeps a document only if its Version
	// is at least the one it holds, and refuses older ones, so a replayed or
	// late update never brings back old data. 0 means unversioned (last
	// write wins); do not mix versioned and unversioned writes of one
	// document (Elasticsearch counts its own versions for the latter).
	// Bleve, written by one process, ignores it.
	Version int64
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

// Paging limits every adapter applies.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxWindow bounds Offset+Limit, the same window as Elasticsearch's
	// default index.max_result_window.
	MaxWindow = 10000
)

// Page checks q's text, paging and price band and returns its offset and
// limit (0 becomes DefaultLimit, more than MaxLimit is capped). Every adapter
// calls it first, so that bad input gets the same errors everywhere.
func (q Query) Page() (offset, limit int, err error) {
	switch {
	case strings.TrimSpace(q.Text) == "":
		return 0, 0, errors.New("search: query text is required")
	case q.Offset < 0:
		return 0, 0, fmt.Errorf("search: offset %d is negative", q.Offset)
	case q.Limit < 0:
		return 0, 0, fmt.Errorf("search: limit %d is negative", q.Limit)
	}
	limit = q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if q.Offset > MaxWindow-limit {
		return 0, 0, fmt.Errorf("search: offset %d is past the last page (offset+limit must be at most %d)", q.Offset, MaxWindow)
	}
	if q.PriceBand != "" {
		if _, ok := BandByKey(q.PriceBand); !ok {
			return 0, 0, fmt.Errorf("search: unknown price band %q", q.PriceBand)
		}
	}
	return q.Offset, limit, nil
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

// Facet limits every adapter applies.
const (
	// MaxFacetValues caps the category and brand facets.
	MaxFacetValues = 20
	// FacetScan is how many terms an adapter asks its engine for, before
	// values are merged and capped: enough that the top MaxFacetValues are
	// exact.
	FacetScan = 1000
	// CategorySep separates a category's slug from its name in the
	// "slug<sep>name" term adapters facet on (a unit separator cannot occur
	// in a slug).
	CategorySep = "\x1f"
)

// TermCount is one term of an engine's terms facet and its count.
type TermCount struct {
	Term  string
	Count int64
}

// CategoryFacet turns "slug<CategorySep>name" terms into the category facet:
// values by slug, labelled with the name. Should one slug appear under two
// names (a rename not yet reindexed everywhere), the counts add up and the
// more frequent name wins.
func CategoryFacet(terms []TermCount) Facet {
	f := Facet{Name: "category", Values: []FacetValue{}}
	bySlug := make(map[string]int) // index into f.Values
	labelCount := make(map[string]int64)
	for _, t := range terms {
		slug, name, _ := strings.Cut(t.Term, CategorySep)
		if name == "" {
			name = slug
		}
		i, ok := bySlug[slug]
		if !ok {
			bySlug[slug] = len(f.Values)
			f.Values = append(f.Values, FacetValue{Value: slug, Label: name, Count: t.Count})
			labelCount[slug] = t.Count
			continue
		}
		f.Values[i].Count += t.Count
		if t.Count > labelCount[slug] {
			f.Values[i].Label, labelCount[slug] = name, t.Count
		}
	}
	f.Values = topValues(f.Values)
	return f
}

// BrandFacet turns brand terms into the brand facet, labelled with
// themselves.
func BrandFacet(terms []TermCount) Facet {
	f := Facet{Name: "brand", Values: []FacetValue{}}
	for _, t := range terms {
		f.Values = append(f.Values, FacetValue{Value: t.Term, Label: t.Term, Count: t.Count})
	}
	f.Values = topValues(f.Values)
	return f
}

// PriceFacet lists the price bands with matches (counts by band key), in
// PriceBands order.
func PriceFacet(counts map[string]int64) Facet {
	f := Facet{Name: "price", Values: []FacetValue{}}
	for _, b := range PriceBands {
		if n := counts[b.Key]; n > 0 {
			f.Values = append(f.Values, FacetValue{Value: b.Key, Label: b.Label, Count: n})
		}
	}
	return f
}

// EmptyResult is the result of a query that cannot match.
func EmptyResult() Result {
	return Result{
		Hits: []Hit{},
		Facets: []Facet{
			{Name: "category", Values: []FacetValue{}},
			{Name: "brand", Values: []FacetValue{}},
			{Name: "price", Values: []FacetValue{}},
		},
	}
}

// topValues sorts values by count (descending), then value, and keeps the
// first MaxFacetValues.
func topValues(vs []FacetValue) []FacetValue {
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Count != vs[j].Count {
			return vs[i].Count > vs[j].Count
		}
		return vs[i].Value < vs[j].Value
	})
	if len(vs) > MaxFacetValues {
		vs = vs[:MaxFacetValues]
	}
	return vs
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

// Deletion removes one document at a version (see Document.Version).
type Deletion struct {
	ID      string
	Version int64
}

// VersionedDeleter is an Index shared by several writers, whose deletions
// carry the product's version so that an older update arriving later does
// not bring the document back.
type VersionedDeleter interface {
	DeleteVersions(ctx context.Context, dels ...Deletion) error
}

// Rebuilder is an Index that can build a complete new copy of itself while
// the current one keeps answering, then switch to it at once (Elasticsearch:
// a new index behind the aliases). fill writes every document through put;
// if fill fails the current index stays as it was.
type Rebuilder interface {
	Rebuild(ctx context.Context, fill func(put func(docs ...Document) error) error) error
}

// Compacter is an Index whose searches get faster when, after a bulk load,
// its pieces are merged into one (Bleve: the segments a reindex leaves
// behind, each searched on its own). Compact may take seconds; searches
// keep working meanwhile.
type Compacter interface {
	Compact(ctx context.Context) error
}

// Synonyms is an Index whose query-time synonyms staff edit. Rules use
// Solr's format, one per entry: "hoodie, sweatshirt" (equivalent words) or
// "tee => t-shirt" (one way). SetSynonyms replaces every rule and takes
// effect on the next search, without reindexing.
type Synonyms interface {
	Synonyms(ctx context.Context) ([]string, error)
	SetSynonyms(ctx context.Context, rules []string) error
}

// SynonymRule is a parsed synonym rule: From are the words it applies to,
// To the words they stand for. An equivalence ("a, b, c") has From and To
// equal; a rewrite ("a, b => c") has Rewrite set.
type SynonymRule struct {
	From, To []string
	Rewrite  bool
}

// String is the rule in Solr's format.
func (r SynonymRule) String() string {
	if r.Rewrite {
		return strings.Join(r.From, ", ") + " => " + strings.Join(r.To, ", ")
	}
	return strings.Join(r.From, ", ")
}

// Synonym limits.
const (
	MaxSynonymRules = 1000
	maxRuleWords    = 20
)

// ParseSynonyms checks and normalises synonym rules (trimmed, lower case):
// every word is a single word of letters, digits and inner apostrophes, a
// rule has two words or more (or words on both sides of "=>"), and a word is
// the source of one rule only, so that a query word has one meaning. The
// error names the rule by index.
func ParseSynonyms(rules []string) ([]SynonymRule, error) {
	if len(rules) > MaxSynonymRules {
		return nil, fmt.Errorf("%d rules, at most %d", len(rules), MaxSynonymRules)
	}
	out := make([]SynonymRule, 0, len(rules))
	owner := map[string]int{}
	for i, raw := range rules {
		words := func(part string) ([]string, error) {
			var ws []string
			for _, w := range strings.Split(part, ",") {
				w = strings.ToLower(strings.TrimSpace(w))
				if w == "" {
					continue
				}
				for j, r := range []rune(w) {
					if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !(r == '\'' && j > 0) {
						return nil, fmt.Errorf("%q is not a single word (letters and digits only)", w)
					}
				}
				if !slices.Contains(ws, w) {
					ws = append(ws, w)
				}
			}
			if len(ws) > maxRuleWords {
				return nil, fmt.Errorf("%d words, at most %d", len(ws), maxRuleWords)
			}
			return ws, nil
		}
		var r SynonymRule
		var err error
		if from, to, ok := strings.Cut(raw, "=>"); ok {
			r.Rewrite = true
			if r.From, err = words(from); err == nil {
				r.To, err = words(to)
			}
			if err == nil && (len(r.From) == 0 || len(r.To) == 0) {
				err = errors.New(`a rewrite needs words on both sides of "=>"`)
			}
		} else {
			r.From, err = words(raw)
			r.To = r.From
			if err == nil && len(r.From) < 2 {
				err = errors.New("a rule needs two words or more, separated by commas")
			}
		}
		if err == nil {
			for _, w := range r.From {
				if j, ok := owner[w]; ok {
					err = fmt.Errorf("%q is already in rule %d", w, j)
					break
				}
				owner[w] = i
			}
		}
		if err != nil {
			return nil, fmt.Errorf("rule %d (%q): %w", i, raw, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// StopWords are the words a query or document text drops. The list is
// shorter than Snowball's English list, which also drops words that tell
// products apart: "down" (jacket), "off" (white), "over" (ear), "top", "no"
// (show), "her", "his".
func StopWords() []string {
	return []string{
		"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from",
		"if", "in", "into", "is", "it", "its", "of", "or", "that", "the",
		"their", "then", "there", "these", "they", "this", "to", "was",
		"were", "with",
	}
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

// BandOf is the price band a price (in minor units) falls in.
func BandOf(price int64) PriceBand {
	for _, b := range PriceBands {
		if price >= b.Min && (b.Max == 0 || price < b.Max) {
			return b
		}
	}
	return PriceBands[0] // below the first band's minimum: not a price a product can have
}

// BandByKey finds the price band whose Key is key.
func BandByKey(key string) (PriceBand, bool) {
	for _, b := range PriceBands {
		if b.Key == key {
			return b, true
		}
	}
	return PriceBand{}, false
}
