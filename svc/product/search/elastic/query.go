package elastic

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// Relevance tuning, the same as the Bleve adapter's where both have it.
const (
	// exactBoost multiplies the field weight for a word matching a term
	// exactly, so exact matches outrank typo-tolerant ones.
	exactBoost = 2.0
	// fuzziness is AUTO with Bleve's thresholds: exact below 4 letters,
	// one edit from 4, two from 8.
	fuzziness = "AUTO:4,8"
	// prefixLength is how many leading letters a typo-tolerant match takes
	// as typed, as in the Bleve adapter: typos are rare in a word's first
	// letter, and the term dictionary is searched from it.
	prefixLength = 1
	// minPrefixRunes is the shortest last word also matched as a prefix.
	minPrefixRunes = 2
	// maxWords bounds the words of a query that count; maxWordRunes cuts
	// longer words (a pasted blob) before they reach the cluster.
	maxWords     = 16
	maxWordRunes = 64
	// inStockBoost is added to the score of products in stock: among
	// equally good matches, those a shopper can buy come first.
	inStockBoost = 0.5
)

// Search runs q like the Bleve adapter: every word must match somewhere
// (typo-tolerant, the last word also as a prefix); if no document matches
// all words, documents matching any word are returned instead. Filters
// narrow without changing scores; facets count every match.
func (x *Index) Search(ctx context.Context, q search.Query) (search.Result, error) {
	if err := x.ensure(ctx); err != nil {
		return search.Result{}, err
	}
	offset, limit, err := q.Page()
	if err != nil {
		return search.Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}
	words := queryWords(q.Text)
	if len(words) == 0 {
		return search.EmptyResult(), nil
	}
	perWord := make([]any, len(words))
	for i, w := range words {
		perWord[i] = wordQuery(w, i == len(words)-1)
	}
	filters := filterClauses(q)
	res, err := x.run(ctx, map[string]any{"bool": map[string]any{"must": perWord}}, filters, offset, limit)
	if err != nil {
		return search.Result{}, err
	}
	if res.Total == 0 && len(words) > 1 {
		anyWord := map[string]any{"bool": map[string]any{"should": perWord, "minimum_should_match": 1}}
		if res, err = x.run(ctx, anyWord, filters, offset, limit); err != nil {
			return search.Result{}, err
		}
	}
	return res, nil
}

// queryWords splits text into lower-case words (letters and digits, with
// inner apostrophes), drops stop words, repeats and a trailing "'s", and
// keeps the first maxWords. The cluster analyses each word again (stemming,
// folding, synonyms); splitting here gives every word its own clause, so
// that all must match and only the last one is a prefix.
func queryWords(text string) []string {
	stop := make(map[string]bool)
	for _, w := range search.StopWords() {
		stop[w] = true
	}
	runes := []rune(text)
	isWord := func(i int) bool {
		r := runes[i]
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			return true
		}
		// An apostrophe between letters: "levi's", "o'neill".
		return (r == '\'' || r == '’') && i > 0 && i+1 < len(runes) &&
			unicode.IsLetter(runes[i-1]) && unicode.IsLetter(runes[i+1])
	}
	var words []string
	seen := map[string]bool{}
	for i := 0; i < len(runes) && len(words) < maxWords; {
		if !isWord(i) {
			i++
			continue
		}
		j := i
		for j < len(runes) && isWord(j) {
			j++
		}
		w := strings.ToLower(string(runes[i:min(j, i+maxWordRunes)]))
		w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "’s")
		i = j
		if w == "" || stop[w] || seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, w)
	}
	return words
}

// wordQuery matches one word in any text field: in each field the best of an
// exact match (boosted), a typo-tolerant one on the analysed field and on
// the plain one (where a word the stemmer moved, "hoodies" → "hoody", still
// finds "hoodie") and, for the last word, a prefix of the plain field; the
// fields' scores add up.
func wordQuery(w string, last bool) any {
	fields := make([]any, 0, len(textFields))
	for _, f := range textFields {
		alts := []any{
			map[string]any{"match": map[string]any{f.name: map[string]any{"query": w, "boost": f.weight * exactBoost}}},
			map[string]any{"match": map[string]any{f.name: map[string]any{"query": w, "fuzziness": fuzziness, "prefix_length": prefixLength, "boost": f.weight}}},
			map[string]any{"match": map[string]any{f.name + plainSuffix: map[string]any{"query": w, "fuzziness": fuzziness, "prefix_length": prefixLength, "boost": f.weight}}},
		}
		if last && len([]rune(w)) >= minPrefixRunes {
			alts = append(alts, map[string]any{"match_phrase_prefix": map[string]any{
				f.name + plainSuffix: map[string]any{"query": w, "boost": f.weight},
			}})
		}
		fields = append(fields, map[string]any{"dis_max": map[string]any{"queries": alts}})
	}
	return map[string]any{"bool": map[string]any{"should": fields, "minimum_should_match": 1}}
}

// filterClauses are q's facet filters (Page has checked the price band).
func filterClauses(q search.Query) []any {
	var fs []any
	if q.Category != "" {
		fs = append(fs, map[string]any{"term": map[string]any{fieldCategory: q.Category}})
	}
	if q.Brand != "" {
		fs = append(fs, map[string]any{"term": map[string]any{fieldBrandKey: q.Brand}})
	}
	if b, ok := search.BandByKey(q.PriceBand); ok {
		r := map[string]any{"gte": b.Min}
		if b.Max > 0 {
			r["lt"] = b.Max
		}
		fs = append(fs, map[string]any{"range": map[string]any{fieldPrice: r}})
	}
	return fs
}

// searchResponse is the part of a _search answer the adapter reads.
type searchResponse struct {
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			ID        string              `json:"_id"`
			Score     float64             `json:"_score"`
			Highlight map[string][]string `json:"highlight"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations struct {
		Category termsAgg `json:"category"`
		Brand    termsAgg `json:"brand"`
		Price    struct {
			Buckets []struct {
				Key      string `json:"key"`
				DocCount int64  `json:"doc_count"`
			} `json:"buckets"`
		} `json:"price"`
	} `json:"aggregations"`
}

type termsAgg struct {
	Buckets []struct {
		Key      string `json:"key"`
		DocCount int64  `json:"doc_count"`
	} `json:"buckets"`
}

func (a termsAgg) terms() []search.TermCount {
	out := make([]search.TermCount, len(a.Buckets))
	for i, b := range a.Buckets {
		out[i] = search.TermCount{Term: b.Key, Count: b.DocCount}
	}
	return out
}

// searchBody is the whole _search request of one match query.
func searchBody(match any, filters []any, offset, limit int) map[string]any {
	boolQ := map[string]any{
		"must":   []any{match},
		"should": []any{map[string]any{"term": map[string]any{fieldInStock: map[string]any{"value": true, "boost": inStockBoost}}}},
	}
	if len(filters) > 0 {
		boolQ["filter"] = filters
	}
	ranges := make([]any, 0, len(search.PriceBands))
	for _, b := range search.PriceBands {
		r := map[string]any{"key": b.Key, "from": b.Min}
		if b.Max > 0 {
			r["to"] = b.Max
		}
		ranges = append(ranges, r)
	}
	return map[string]any{
		"from":             offset,
		"size":             limit,
		"track_total_hits": true,
		"_source":          false,
		"query":            map[string]any{"bool": boolQ},
		"sort":             []any{map[string]any{"_score": "desc"}, map[string]any{fieldID: "asc"}},
		"highlight": map[string]any{
			"pre_tags":  []string{"<mark>"},
			"post_tags": []string{"</mark>"},
			"encoder":   "html",
			// Words match through the .plain subfields too (prefixes):
			// highlight with every query term, but only the words' query,
			// not the filters' terms.
			"require_field_match": false,
			"highlight_query":     match,
			"fields": map[string]any{
				fieldTitle:       map[string]any{"number_of_fragments": 0},
				fieldDescription: map[string]any{"fragment_size": 150, "number_of_fragments": 3},
			},
		},
		"aggs": map[string]any{
			"category": map[string]any{"terms": map[string]any{"field": fieldCategoryFacet, "size": search.FacetScan}},
			"brand":    map[string]any{"terms": map[string]any{"field": fieldBrandKey, "size": search.FacetScan}},
			"price":    map[string]any{"range": map[string]any{"field": fieldPrice, "ranges": ranges}},
		},
	}
}

// run sends one search and converts its answer.
func (x *Index) run(ctx context.Context, match any, filters []any, offset, limit int) (search.Result, error) {
	var res searchResponse
	if err := x.do(ctx, http.MethodPost, "/"+x.readAlias()+"/_search", nil, searchBody(match, filters, offset, limit), &res); err != nil {
		return search.Result{}, fmt.Errorf("search: %w", err)
	}
	out := search.Result{Total: res.Hits.Total.Value, Hits: make([]search.Hit, 0, len(res.Hits.Hits))}
	for _, h := range res.Hits.Hits {
		hit := search.Hit{ID: h.ID, Score: h.Score}
		for _, f := range [...]string{fieldTitle, fieldDescription} {
			if frags := h.Highlight[f]; len(frags) > 0 {
				if hit.Highlights == nil {
					hit.Highlights = make(map[string][]string, 2)
				}
				hit.Highlights[f] = slices.Clone(frags)
			}
		}
		out.Hits = append(out.Hits, hit)
	}
	counts := make(map[string]int64, len(res.Aggregations.Price.Buckets))
	for _, b := range res.Aggregations.Price.Buckets {
		counts[b.Key] += b.DocCount
	}
	out.Facets = []search.Facet{
		search.CategoryFacet(res.Aggregations.Category.terms()),
		search.BrandFacet(res.Aggregations.Brand.terms()),
		search.PriceFacet(counts),
	}
	return out, nil
}
