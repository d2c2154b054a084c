package elastic

import "github.com/emporiumhq/emporium/svc/product/search"

// Field names in the index. Text fields have a "plain" subfield (not stemmed,
// no stop words, no synonyms) for search-as-you-type prefixes.
const (
	fieldID            = "id"             // keyword: tie-break sort (sorting on _id is off in ES 8)
	fieldSlug          = "slug"           // keyword
	fieldTitle         = "title"          // text, highlighted
	fieldDescription   = "description"    // text, highlighted
	fieldBrand         = "brand"          // text
	fieldCategoryName  = "category_name"  // text
	fieldAttributes    = "attributes"     // text
	fieldBrandKey      = "brand_key"      // keyword: exact filter and facet
	fieldCategory      = "category"       // keyword (slug): exact filter
	fieldCategoryFacet = "category_facet" // keyword: slug + facetSep + name, the facet
	fieldPrice         = "price"          // long, minor units
	fieldInStock       = "in_stock"       // boolean
	fieldCreated       = "created"        // date
	fieldVersion       = "version"        // long: the product's version, also the external version
	plainSuffix        = ".plain"
)

// facetSep separates the category slug from its name in fieldCategoryFacet.
const facetSep = search.CategorySep

// Analysis names.
const (
	analyzerIndex  = "emporium_en"        // index time: no synonyms
	analyzerSearch = "emporium_en_search" // query time: with the staff's synonyms
	analyzerPlain  = "emporium_plain"     // the .plain subfields
	filterStop     = "emporium_stop"
	filterStem     = "emporium_stem"
	filterPoss     = "emporium_possessive"
	filterSynonyms = "emporium_synonyms"
)

// textFields are the fields a query's words are matched against, with their
// weights: the same as the Bleve adapter's.
var textFields = []struct {
	name   string
	weight float64
}{
	{fieldTitle, 3},
	{fieldBrand, 2},
	{fieldCategoryName, 1.5},
	{fieldAttributes, 1},
	{fieldDescription, 1},
}

// gcDeletes is how long Elasticsearch remembers the version of a deleted
// document (index.gc_deletes, default 60 s): an older update arriving within
// it is refused as a conflict instead of bringing the product back. Index
// jobs re-read the product when they run, so only a job already under way
// when a newer one finishes can arrive late; an hour covers its timeout many
// times over.
const gcDeletes = "1h"

// template is the index template of the catalog's indexes (names
// <name>-idx-*): explicit mappings (dynamic: strict, so a document with an
// unknown field is refused instead of guessed) and analysers.
//
// Index-time text analysis: standard tokenizer, English possessives removed,
// lower case, ASCII folding ("été" → "ete"), the stop words of the port, and
// Elasticsearch's minimal_english stemmer (plurals only, like the Bleve
// adapter's: fuzzy matching compares typed words with indexed terms, and a
// heavier stemmer moves those too far from what people type). Query time adds
// a synonym_graph filter fed by a synonyms set: updateable, so that
// PUT _synonyms reloads it without a reindex. It comes after the stemmer, so
// the rules' words are stemmed like the query's ("jumpers" meets the rule
// "jumper, hoodie").
func template(name string) map[string]any {
	text := func() map[string]any {
		return map[string]any{
			"type":            "text",
			"analyzer":        analyzerIndex,
			"search_analyzer": analyzerSearch,
			"fields": map[string]any{
				"plain": map[string]any{"type": "text", "analyzer": analyzerPlain},
			},
		}
	}
	kw := func() map[string]any { return map[string]any{"type": "keyword"} }
	return map[string]any{
		"index_patterns": []string{name + "-idx-*"},
		"priority":       200,
		"_meta":          map[string]any{"managed_by": "emporium", "mapping": mappingVersion},
		"template": map[string]any{
			"settings": map[string]any{
				"index": map[string]any{
					"gc_deletes":        gcDeletes,
					"max_result_window": search.MaxWindow,
				},
				"analysis": map[string]any{
					"filter": map[string]any{
						filterStop: map[string]any{"type": "stop", "stopwords": search.StopWords()},
						filterStem: map[string]any{"type": "stemmer", "language": "minimal_english"},
						filterPoss: map[string]any{"type": "stemmer", "language": "possessive_english"},
						filterSynonyms: map[string]any{
							"type": "synonym_graph", "synonyms_set": name, "updateable": true,
						},
					},
					"analyzer": map[string]any{
						analyzerIndex: map[string]any{
							"type": "custom", "tokenizer": "standard",
							"filter": []string{filterPoss, "lowercase", "asciifolding", filterStop, filterStem},
						},
						analyzerSearch: map[string]any{
							"type": "custom", "tokenizer": "standard",
							"filter": []string{filterPoss, "lowercase", "asciifolding", filterStop, filterStem, filterSynonyms},
						},
						analyzerPlain: map[string]any{
							"type": "custom", "tokenizer": "standard",
							"filter": []string{"lowercase", "asciifolding"},
						},
					},
				},
			},
			"mappings": map[string]any{
				"dynamic": "strict",
				"properties": map[string]any{
					fieldID:            kw(),
					fieldSlug:          map[string]any{"type": "keyword", "index": false},
					fieldTitle:         text(),
					fieldDescription:   text(),
					fieldBrand:         text(),
					fieldCategoryName:  text(),
					fieldAttributes:    text(),
					fieldBrandKey:      kw(),
					fieldCategory:      kw(),
					fieldCategoryFacet: kw(),
					fieldPrice:         map[string]any{"type": "long"},
					fieldInStock:       map[string]any{"type": "boolean"},
					fieldCreated:       map[string]any{"type": "date"},
					fieldVersion:       map[string]any{"type": "long"},
				},
			},
		},
	}
}

// mappingVersion names the template's shape; it is kept in the template's
// and the indexes' _meta so that an operator can see which one built an
// index. A change of mapping takes `emporium reindex`.
const mappingVersion = "emporium-catalog-v1"

// source is what the index stores of a document. Empty strings are left
// out, so that they neither match nor show up as facet values.
func source(d search.Document) map[string]any {
	m := make(map[string]any, 14)
	put := func(field, v string) {
		if v != "" {
			m[field] = v
		}
	}
	m[fieldID] = d.ID
	put(fieldSlug, d.Slug)
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
	m[fieldPrice] = d.Price
	m[fieldInStock] = d.InStock
	if !d.Created.IsZero() {
		m[fieldCreated] = d.Created.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	m[fieldVersion] = d.Version
	return m
}
