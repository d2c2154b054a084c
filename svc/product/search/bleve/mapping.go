package bleve

import (
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// mappingVersion names the shape of the index mapping below. It is stored in
// the index; an index written with another version is refused on Open
// (ErrMappingChanged) so that it gets rebuilt instead of half-working.
const mappingVersion = "emporium-catalog-v2"

// mappingVersionKey is the internal (non-document) key that holds
// mappingVersion.
const mappingVersionKey = "emporium:mapping-version"

// analyzerName is the analyzer of every text field: Unicode word
// segmentation, English possessives stripped ("levi's" → "levi"), lower case,
// a short list of stop words removed (stopWords) and a light, plural-only
// stemmer ("jackets" → "jacket", "dresses" → "dress").
//
// The light stemmer is chosen over Porter (the stock "en" analyzer) because
// fuzzy and prefix queries are not analysed: they compare what the shopper
// typed with the indexed terms. Porter turns "running" into "run" and
// "hoodie" into "hoodi", so a half-typed "runni" would find nothing, while
// plural stemming keeps indexed terms close to the words people type.
const analyzerName = "emporium_en"

// stopWordsName names the stop word list (a token map) and stopFilterName
// the filter that removes its words.
const (
	stopWordsName  = "emporium_stop_words"
	stopFilterName = "emporium_stop"
)

// stopWords lists the words a query or document text drops: the port's
// list, shared with the other adapter.
func stopWords() []any {
	words := search.StopWords()
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = w
	}
	return out
}

// Field names in the index.
const (
	fieldTitle         = "title"          // text, stored, term vectors (highlights)
	fieldDescription   = "description"    // text, stored, term vectors (highlights)
	fieldBrand         = "brand"          // text
	fieldCategoryName  = "category_name"  // text
	fieldAttributes    = "attributes"     // text
	fieldBrandKey      = "brand_key"      // keyword: exact filter and facet
	fieldCategory      = "category"       // keyword (slug): exact filter
	fieldCategoryFacet = "category_facet" // keyword: slug + facetSep + name, the facet
	fieldPrice         = "price"          // numeric, minor units
	fieldPriceBand     = "price_band"     // keyword: the price facet and filter (search.PriceBand.Key)
	fieldInStock       = "in_stock"       // boolean
	fieldCreated       = "created"        // datetime
	fieldSlug          = "slug"           // keyword, stored
)

// facetSep separates the category slug from its name in fieldCategoryFacet.
const facetSep = search.CategorySep

// textField describes one analysed text field and its weight in relevance.
type textField struct {
	name   string
	weight float64
}

// textFields are the fields a query's words are matched against, with their
// weights.
func textFields() [5]textField {
	return [...]textField{
		{fieldTitle, 3},
		{fieldBrand, 2},
		{fieldCategoryName, 1.5},
		{fieldAttributes, 1},
		{fieldDescription, 1},
	}
}

// newMapping builds the explicit (non-dynamic) index mapping.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	err := im.AddCustomTokenMap(stopWordsName, map[string]any{
		"type":   tokenmap.Name,
		"tokens": stopWords(),
	})
	if err != nil {
		return nil, fmt.Errorf("add stop words: %w", err)
	}
	err = im.AddCustomTokenFilter(stopFilterName, map[string]any{
		"type":           stop.Name,
		"stop_token_map": stopWordsName,
	})
	if err != nil {
		return nil, fmt.Errorf("add stop filter: %w", err)
	}
	err = im.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":      custom.Name,
		"tokenizer": unicode.Name,
		"token_filters": []any{
			en.PossessiveName,
			lowercase.Name,
			stopFilterName,
			en.PluralStemmerName,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("add analyzer %s: %w", analyzerName, err)
	}
	im.DefaultAnalyzer = analyzerName
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false

	text := func(store bool) *mapping.FieldMapping {
		fm := mapping.NewTextFieldMapping()
		fm.Analyzer = analyzerName
		fm.Store = store
		fm.IncludeTermVectors = store // highlighted fields need both
		fm.IncludeInAll = false
		fm.DocValues = false
		return fm
	}
	kw := func(store, docValues bool) *mapping.FieldMapping {
		fm := mapping.NewKeywordFieldMapping()
		fm.Analyzer = keyword.Name
		fm.Store = store
		fm.IncludeTermVectors = false
		fm.IncludeInAll = false
		fm.DocValues = docValues
		return fm
	}

	dm := mapping.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldTitle, text(true))
	dm.AddFieldMappingsAt(fieldDescription, text(true))
	dm.AddFieldMappingsAt(fieldBrand, text(false))
	dm.AddFieldMappingsAt(fieldCategoryName, text(false))
	dm.AddFieldMappingsAt(fieldAttributes, text(false))
	dm.AddFieldMappingsAt(fieldBrandKey, kw(false, true))
	dm.AddFieldMappingsAt(fieldCategory, kw(false, false))
	dm.AddFieldMappingsAt(fieldCategoryFacet, kw(false, true))
	dm.AddFieldMappingsAt(fieldSlug, kw(true, false))

	// The price facet counts bands, one keyword term per product: a
	// numeric field's doc values hold 16 terms per product (one per
	// precision step), which the facet would read for every hit.
	dm.AddFieldMappingsAt(fieldPriceBand, kw(false, true))
	price := mapping.NewNumericFieldMapping()
	price.IncludeInAll = false
	price.DocValues = false
	dm.AddFieldMappingsAt(fieldPrice, price)

	inStock := mapping.NewBooleanFieldMapping()
	inStock.IncludeInAll = false
	inStock.DocValues = false
	dm.AddFieldMappingsAt(fieldInStock, inStock)

	created := mapping.NewDateTimeFieldMapping()
	created.IncludeInAll = false
	created.DocValues = true // for sorting by newness later
	dm.AddFieldMappingsAt(fieldCreated, created)

	im.DefaultMapping = dm
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("validate mapping: %w", err)
	}
	return im, nil
}

// toBleve turns a Document into what Bleve indexes. Empty strings and a zero
// Created are left out, so that they neither match nor show up as facet
// values.
func toBleve(d search.Document) map[string]any {
	m := make(map[string]any, 12)
	put := func(field, v string) {
		if strings.TrimSpace(v) != "" {
			m[field] = v
		}
	}
	put(fieldTitle, d.Title)
	put(fieldDescription, d.Description)
	put(fieldBrand, d.Brand)
	put(fieldBrandKey, d.Brand)
	put(fieldCategoryName, d.CategoryName)
	put(fieldAttributes, d.Attributes)
	put(fieldCategory, d.Category)
	if d.Category != "" {
		m[fieldCategoryFacet] = d.Category + facetSep + d.CategoryName
	}
	put(fieldSlug, d.Slug)
	m[fieldPrice] = float64(d.Price)
	m[fieldPriceBand] = search.BandOf(d.Price).Key
	m[fieldInStock] = d.InStock
	if !d.Created.IsZero() {
		m[fieldCreated] = d.Created.UTC().Truncate(time.Millisecond)
	}
	return m
}
