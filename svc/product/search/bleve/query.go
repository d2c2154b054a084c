package bleve

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	blv "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// Relevance tuning.
const (
	// exactBoost multiplies the field weight for a word that matches a term
	// exactly, so exact matches outrank typo-tolerant ones.
	exactBoost = 2.0
	// prefixBoost multiplies the field weight for the last word's prefix
	// match (search as you type).
	prefixBoost = 1.0
	// minPrefixRunes is the shortest last word that is also matched as a
	// prefix; a single letter would expand to a large part of the
	// dictionary.
	minPrefixRunes = 2
	// maxWords bounds the words of a query that count; the rest of a
	// longer text (a pasted paragraph) is ignored rather than turned into
	// hundreds of clauses.
	maxWords = 16
)

// scoreDigits is the number of significant digits scores are rounded to.
const scoreDigits = 9

// Facets.
const (
	facetCategory = "category"
	facetBrand    = "brand"
	facetPrice    = "price"
)

// word is one analysed word of the query text.
type word struct {
	term  string // as indexed: lower case, plural-stemmed
	typed string // as typed, in lower case
	runes int    // length of the word as typed
}

// Search runs q: every word must match somewhere (typo-tolerant); if no
// document matches all words, documents matching any word are returned
// instead. Filters narrow the matches without changing scores, and facets
// count every match of the filtered query.
//
// Text made only of stop words or punctuation matches nothing (an empty
// result, not an error); words past the first 16 are ignored. Offset+Limit
// may not exceed 10,000, like Elasticsearch's default result window.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	offset, limit, err := q.Page()
	if err != nil {
		return search.Result{}, err
	}
	filter, err := filterQuery(q)
	if err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return search.Result{}, fmt.Errorf("search: %w", ErrClosed)
	}

	words := analyze(x.analyzer, q.Text)
	if len(words) == 0 {
		// Only stop words or punctuation: nothing can match.
		return search.EmptyResult(), nil
	}
	perWord := make([]query.Query, len(words))
	for i, w := range words {
		last := i == len(words)-1
		alts, ok := x.synonyms[w.term]
		if !ok {
			perWord[i] = wordQuery(w, last)
			continue
		}
		// A synonym rule: the word matches as any word it stands for.
		qs := make([]query.Query, 0, len(alts))
		for _, a := range alts {
			qs = append(qs, wordQuery(a, last && a.term == w.term))
		}
		perWord[i] = blv.NewDisjunctionQuery(qs...)
	}

	res, err := x.run(ctx, all(perWord), filter, offset, limit)
	if err != nil {
		return search.Result{}, err
	}
	if res.Total == 0 && len(words) > 1 {
		// Fall back to any word, so the shopper still sees something; the
		// disjunction's coordination factor ranks documents matching more
		// words first.
		res, err = x.run(ctx, blv.NewDisjunctionQuery(perWord...), filter, offset, limit)
		if err != nil {
			return search.Result{}, err
		}
	}
	return res, nil
}

// run executes one search request and converts its result.
func (x *Index) run(ctx context.Context, match query.Query, filter query.Query, offset, limit int) (search.Result, error) {
	var qry query.Query = match
	if filter != nil {
		b := blv.NewBooleanQuery()
		b.AddMust(match)
		b.AddFilter(filter) // filters narrow, they do not score
		qry = b
	}
	qry = query.NewCustomScoreQueryWithScorer(qry, roundScore, nil, nil)
	req := blv.NewSearchRequestOptions(qry, limit, offset, false)
	req.SortBy([]string{"-_score", "_id"})
	req.Highlight = blv.NewHighlightWithStyle(html.Name)
	req.Highlight.AddField(fieldTitle)
	req.Highlight.AddField(fieldDescription)
	req.AddFacet(facetCategory, blv.NewFacetRequest(fieldCategoryFacet, search.FacetScan))
	req.AddFacet(facetBrand, blv.NewFacetRequest(fieldBrandKey, search.FacetScan))
	req.AddFacet(facetPrice, blv.NewFacetRequest(fieldPriceBand, len(search.PriceBands)))

	sr, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}

	out := search.Result{Total: int64(sr.Total), Hits: make([]search.Hit, 0, len(sr.Hits))}
	for _, h := range sr.Hits {
		hit := search.Hit{ID: h.ID, Score: h.Score}
		for _, f := range [...]string{fieldTitle, fieldDescription} {
			// Bleve also returns an unmarked fragment for a field without
			// a match; only fields that matched are highlights.
			if len(h.Locations[f]) == 0 || len(h.Fragments[f]) == 0 {
				continue
			}
			if hit.Highlights == nil {
				hit.Highlights = make(map[string][]string, 2)
			}
			hit.Highlights[f] = append([]string(nil), h.Fragments[f]...)
		}
		out.Hits = append(out.Hits, hit)
	}
	out.Facets = []search.Facet{
		search.CategoryFacet(termCounts(sr.Facets[facetCategory])),
		search.BrandFacet(termCounts(sr.Facets[facetBrand])),
		priceFacet(sr.Facets[facetPrice]),
	}
	return out, nil
}

// roundScore rounds a hit's score to scoreDigits significant digits. Bleve
// adds up the scores of a disjunction's clauses in an order that varies from
// document to document, so equally relevant documents can differ in the last
// bit; rounding makes them tie, and ties are ordered by ID, as promised.
func roundScore(_ context.Context, d *bsearch.DocumentMatch) (float64, error) {
	x := d.Score
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x, nil
	}
	p := math.Pow(10, scoreDigits-1-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p, nil
}

// analyze splits text into words with the index's analyzer, dropping stop
// words and repeated words.
func analyze(a analysis.Analyzer, text string) []word {
	tokens := a.Analyze([]byte(text))
	words := make([]word, 0, len(tokens))
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		term := string(t.Term)
		if term == "" || seen[term] {
			continue
		}
		if len(words) == maxWords {
			break
		}
		seen[term] = true
		typed := strings.ToLower(text[t.Start:t.End])
		words = append(words, word{term: term, typed: typed, runes: utf8.RuneCountInString(typed)})
	}
	return words
}

// maxFuzzyRunes is the longest word matched with typos: a fuzzy query
// builds an automaton that grows with the word, and no product word is this
// long (a pasted blob is matched exactly instead).
const maxFuzzyRunes = 64

// fuzziness is the number of edits a word of n runes may be off by.
func fuzziness(n int) int {
	switch {
	case n > maxFuzzyRunes:
		return 0
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	default:
		return 0
	}
}

// wordQuery matches one word in any text field: exactly (boosted), with a
// typo or two (by length) and, for the last word, as a prefix.
func wordQuery(w word, last bool) query.Query {
	fields := textFields()
	clauses := make([]query.Query, 0, 3*len(fields))
	fz := fuzziness(w.runes)
	// The stemmer may have cut a word away from what a document holds
	// ("hoodies" → "hoody", yet "hoodie" is indexed as is): typos are
	// measured from the word as typed too.
	fuzzyWords := []string{w.term}
	if w.typed != w.term {
		fuzzyWords = append(fuzzyWords, w.typed)
	}
	for _, f := range fields {
		exact := blv.NewTermQuery(w.term)
		exact.SetField(f.name)
		exact.SetBoost(f.weight * exactBoost)
		clauses = append(clauses, exact)
		if fz > 0 {
			clauses = append(clauses, fuzzyQueries(fuzzyWords, f, fz)...)
		}
		if last && w.runes >= minPrefixRunes {
			prefix := blv.NewPrefixQuery(w.term)
			prefix.SetField(f.name)
			prefix.SetBoost(f.weight * prefixBoost)
			clauses = append(clauses, prefix)
		}
	}
	return blv.NewDisjunctionQuery(clauses...)
}

// fuzzyQueries match any of words in field f within fz edits (a
// transposition counts as one), their first letter as typed: one query per
// first letter.
func fuzzyQueries(words []string, f textField, fz int) []query.Query {
	var qs []query.Query
	byFirst := map[rune]*fuzzyTerms{}
	for _, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		if q, ok := byFirst[r]; ok {
			q.words = append(q.words, w)
			continue
		}
		q := &fuzzyTerms{field: f.name, words: []string{w}, edits: fz, boost: f.weight}
		byFirst[r] = q
		qs = append(qs, q)
	}
	return qs
}

// all requires every one of qs.
func all(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return blv.NewConjunctionQuery(qs...)
}

// filterQuery builds the filter of q's facet values, or nil for none.
func filterQuery(q search.Query) (query.Query, error) {
	var fs []query.Query
	if q.Category != "" {
		t := blv.NewTermQuery(q.Category)
		t.SetField(fieldCategory)
		fs = append(fs, t)
	}
	if q.Brand != "" {
		t := blv.NewTermQuery(q.Brand)
		t.SetField(fieldBrandKey)
		fs = append(fs, t)
	}
	if q.PriceBand != "" {
		if _, ok := search.BandByKey(q.PriceBand); !ok {
			return nil, fmt.Errorf("unknown price band %q", q.PriceBand)
		}
		t := blv.NewTermQuery(q.PriceBand)
		t.SetField(fieldPriceBand)
		fs = append(fs, t)
	}
	switch len(fs) {
	case 0:
		return nil, nil
	case 1:
		return fs[0], nil
	default:
		return blv.NewConjunctionQuery(fs...), nil
	}
}

// termCounts lists a terms facet's terms.
func termCounts(fr *bsearch.FacetResult) []search.TermCount {
	if fr == nil || fr.Terms == nil {
		return nil
	}
	terms := fr.Terms.Terms()
	out := make([]search.TermCount, len(terms))
	for i, t := range terms {
		out[i] = search.TermCount{Term: t.Term, Count: int64(t.Count)}
	}
	return out
}

// priceFacet lists the price bands that have matches, in search.PriceBands
// order.
func priceFacet(fr *bsearch.FacetResult) search.Facet {
	counts := map[string]int64{}
	for _, t := range termCounts(fr) {
		counts[t.Term] += t.Count
	}
	return search.PriceFacet(counts)
}
