// Package searchtest is the contract suite of the search port: every adapter
// of search.Index must pass Run. The embedded Bleve index (search/bleve) is
// the only adapter today; any further one is held to the same suite.
//
// The suite seeds its own small catalog (see Catalog) and checks concrete
// results: which products a query finds (typos and prefixes included), their
// order where relevance decides it, filters, facet counts, paging,
// highlights, updates and deletes, bad input and concurrent use.
package searchtest

import (
	"context"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// Run runs the contract suite against the adapter that open makes. open must
// return a new, empty index for every call and close it when t ends (with
// t.Cleanup). Subtests run in parallel, so open must be safe for concurrent
// use and indexes it returns must not share documents.
func Run(t *testing.T, open func(t *testing.T) search.Index) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) search.Index)
	}{
		{"Count", testCount},
		{"Matching", testMatching},
		{"Ranking", testRanking},
		{"Filters", testFilters},
		{"Facets", testFacets},
		{"Paging", testPaging},
		{"Limits", testLimits},
		{"Highlights", testHighlights},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"Reset", testReset},
		{"BadInput", testBadInput},
		{"Hostile", testHostile},
		{"Synonyms", testSynonyms},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open)
		})
	}
}

// seeded opens a fresh index holding Catalog.
func seeded(t *testing.T, open func(t *testing.T) search.Index) search.Index {
	t.Helper()
	idx := open(t)
	if err := idx.Index(t.Context(), Catalog()...); err != nil {
		t.Fatalf("Index(catalog): %v", err)
	}
	return idx
}

// mustSearch runs q and fails the test on error.
func mustSearch(t *testing.T, idx search.Index, q search.Query) search.Result {
	t.Helper()
	res, err := idx.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return res
}

// mustCount counts documents and fails the test on error.
func mustCount(t *testing.T, idx search.Index) int64 {
	t.Helper()
	n, err := idx.Count(t.Context())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

// ids lists the IDs of res's hits in order (never nil).
func ids(res search.Result) []string {
	out := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		out = append(out, h.ID)
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// checkScores checks that hits come best first, with positive scores.
func checkScores(t *testing.T, res search.Result) {
	t.Helper()
	for i, h := range res.Hits {
		if h.Score <= 0 {
			t.Errorf("hit %d (%s) has score %v, want > 0", i, h.ID, h.Score)
		}
		if i > 0 && h.Score > res.Hits[i-1].Score {
			t.Errorf("hit %d (%s) scores %v, more than hit %d (%s) at %v: not in relevance order",
				i, h.ID, h.Score, i-1, res.Hits[i-1].ID, res.Hits[i-1].Score)
		}
	}
}

func testCount(t *testing.T, open func(t *testing.T) search.Index) {
	idx := open(t)
	if got := mustCount(t, idx); got != 0 {
		t.Fatalf("Count of a new index = %d, want 0", got)
	}
	if err := idx.Index(t.Context()); err != nil {
		t.Fatalf("Index() with no documents: %v", err)
	}
	if err := idx.Index(t.Context(), Catalog()...); err != nil {
		t.Fatalf("Index(catalog): %v", err)
	}
	if got, want := mustCount(t, idx), int64(len(Catalog())); got != want {
		t.Fatalf("Count = %d, want %d", got, want)
	}
}

// testMatching checks which documents a query finds: Total and the set of
// IDs, whatever their order.
func testMatching(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	jackets := []string{"j1", "j2", "j3", "j4", "j5", "p1"}
	waterproof := []string{"b1", "b3", "j1", "j3", "p4", "x3"}
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"exact word", "lantern", []string{"c1", "c3"}},
		{"exact word in one document", "canvas", []string{"s2"}},
		{"word in category name and titles", "backpack", []string{"p1", "p2", "p3", "p4"}},
		{"plural finds singular", "jackets", jackets},
		{"upper case", "JACKET", jackets},
		{"brand name", "northpeak", []string{"b1", "c3", "c4", "h4", "j1", "j5", "p2", "x3"}},
		{"typo: transposed letters", "jakcet", jackets},
		{"typo: wrong letter in a long word", "sneekers", []string{"s1", "s2", "s3", "s4"}},
		{"typo: two edits in a long word", "watreproff", waterproof},
		{"short word is exact only", "cap", []string{"x2"}},
		// The first letter is taken as typed (prefix_length 1).
		{"typo in the first letter is not tolerated", "hacket", []string{}},
		{"multi-word: every word must match", "waterproof jacket", []string{"j1", "j3"}},
		{"multi-word with a typo", "waterproof jakcet", []string{"j1", "j3"}},
		{"multi-word with stop words", "a jacket for the rain", []string{"j3", "p1"}},
		{"words that tell products apart are not stop words", "down jacket", []string{"j2"}},
		{"multi-word: no document has all, any word will do", "waterproof toaster", waterproof},
		{"prefix of the last word", "hood", []string{"h1", "h2", "h3", "h4"}},
		{"prefix only", "lant", []string{"c1", "c3"}},
		{"prefix after a full word", "rain jack", []string{"j3", "p1"}},
		{"no match", "toaster", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustSearch(t, idx, search.Query{Text: tt.text, Limit: 100})
			if diff := cmp.Diff(tt.want, sorted(ids(res))); diff != "" {
				t.Errorf("Search(%q) IDs mismatch (-want +got):\n%s", tt.text, diff)
			}
			if res.Total != int64(len(tt.want)) {
				t.Errorf("Search(%q).Total = %d, want %d", tt.text, res.Total, len(tt.want))
			}
			checkScores(t, res)
		})
	}
}

func testRanking(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	t.Run("title match above description-only match", func(t *testing.T) {
		t.Parallel()
		res := mustSearch(t, idx, search.Query{Text: "lantern"})
		if diff := cmp.Diff([]string{"c1", "c3"}, ids(res)); diff != "" {
			t.Errorf("order mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("products named for the word come before one that mentions it", func(t *testing.T) {
		t.Parallel()
		res := mustSearch(t, idx, search.Query{Text: "jacket"})
		got := ids(res)
		if len(got) != 6 {
			t.Fatalf("got %d hits %v, want 6", len(got), got)
		}
		if diff := cmp.Diff([]string{"j1", "j2", "j3", "j4", "j5"}, sorted(got[:5])); diff != "" {
			t.Errorf("first five mismatch (-want +got):\n%s", diff)
		}
		if got[5] != "p1" {
			t.Errorf("last hit = %s, want p1 (mentions a jacket in its description only)", got[5])
		}
		checkScores(t, res)
	})
	t.Run("title match above description and attributes", func(t *testing.T) {
		t.Parallel()
		res := mustSearch(t, idx, search.Query{Text: "leather"})
		// s3 has "Leather" in its title; b1 only in description and attributes.
		if diff := cmp.Diff([]string{"s3", "b1"}, ids(res)); diff != "" {
			t.Errorf("order mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("exact spelling above a typo", func(t *testing.T) {
		t.Parallel()
		// "camp" is in c1's and c6's titles, a prefix of "camping" (c1–c6)
		// and one letter off "cap" (x2, the trucker cap).
		res := mustSearch(t, idx, search.Query{Text: "camp"})
		got := ids(res)
		if diff := cmp.Diff([]string{"c1", "c2", "c3", "c4", "c5", "c6", "x2"}, sorted(got)); diff != "" {
			t.Fatalf("Search(camp) IDs mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"c1", "c6"}, sorted(got[:2])); diff != "" {
			t.Errorf("first two mismatch (-want +got):\n%s", diff)
		}
		checkScores(t, res)
	})
	t.Run("equal scores are ordered by ID", func(t *testing.T) {
		t.Parallel()
		res := mustSearch(t, idx, search.Query{Text: "northpeak"})
		// Every hit matches the brand field alone, in one word: a tie.
		want := []string{"b1", "c3", "c4", "h4", "j1", "j5", "p2", "x3"}
		if diff := cmp.Diff(want, ids(res)); diff != "" {
			t.Errorf("order mismatch (-want +got):\n%s", diff)
		}
	})
}

func testFilters(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	tests := []struct {
		name string
		q    search.Query
		want []string
	}{
		{"category", search.Query{Text: "waterproof", Category: "boots"}, []string{"b1", "b3"}},
		{"brand", search.Query{Text: "waterproof", Brand: "Northpeak"}, []string{"b1", "j1", "x3"}},
		{"brand is exact", search.Query{Text: "waterproof", Brand: "northpeak"}, []string{}},
		{"price band", search.Query{Text: "waterproof", PriceBand: "100-200"}, []string{"b1", "b3", "j1"}},
		{"open-ended price band", search.Query{Text: "northpeak", PriceBand: "200-"}, []string{"c3", "p2"}},
		{"price band includes its minimum", search.Query{Text: "bottle", PriceBand: "25-50"}, []string{"c2"}},
		{"price band excludes its maximum", search.Query{Text: "bottle", PriceBand: "0-25"}, []string{}},
		{"category and brand", search.Query{Text: "jacket", Category: "jackets", Brand: "Northpeak"}, []string{"j1", "j5"}},
		{"all three", search.Query{Text: "waterproof", Category: "boots", Brand: "Fjordline", PriceBand: "100-200"}, []string{"b3"}},
		{"unknown category", search.Query{Text: "jacket", Category: "toasters"}, []string{}},
		{"filters apply to the any-word fallback", search.Query{Text: "waterproof toaster", Category: "accessories"}, []string{"x3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.q.Limit = 100
			res := mustSearch(t, idx, tt.q)
			if diff := cmp.Diff(tt.want, sorted(ids(res))); diff != "" {
				t.Errorf("Search(%+v) IDs mismatch (-want +got):\n%s", tt.q, diff)
			}
			if res.Total != int64(len(tt.want)) {
				t.Errorf("Total = %d, want %d", res.Total, len(tt.want))
			}
		})
	}
	t.Run("filters keep relevance scores", func(t *testing.T) {
		t.Parallel()
		all := mustSearch(t, idx, search.Query{Text: "waterproof", Limit: 100})
		scores := make(map[string]float64, len(all.Hits))
		for _, h := range all.Hits {
			scores[h.ID] = h.Score
		}
		filtered := mustSearch(t, idx, search.Query{Text: "waterproof", Category: "boots"})
		if len(filtered.Hits) != 2 {
			t.Fatalf("got %d hits, want 2", len(filtered.Hits))
		}
		for _, h := range filtered.Hits {
			if h.Score != scores[h.ID] {
				t.Errorf("%s scores %v filtered, %v unfiltered", h.ID, h.Score, scores[h.ID])
			}
		}
	})
}

func testFacets(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	fv := func(value, label string, count int64) search.FacetValue {
		return search.FacetValue{Value: value, Label: label, Count: count}
	}
	tests := []struct {
		name      string
		q         search.Query
		wantTotal int64
		want      []search.Facet
	}{
		{
			name:      "counts every match, not only the page",
			q:         search.Query{Text: "waterproof", Limit: 1},
			wantTotal: 6,
			want: []search.Facet{
				{Name: "category", Values: []search.FacetValue{
					fv("boots", "Boots", 2), fv("jackets", "Jackets", 2),
					fv("accessories", "Accessories", 1), fv("backpacks", "Backpacks", 1),
				}},
				{Name: "brand", Values: []search.FacetValue{
					fv("Northpeak", "Northpeak", 3), fv("Fjordline", "Fjordline", 2), fv("Trailhead", "Trailhead", 1),
				}},
				{Name: "price", Values: []search.FacetValue{
					fv("25-50", "25 to 50", 2), fv("50-100", "50 to 100", 1), fv("100-200", "100 to 200", 3),
				}},
			},
		},
		{
			name:      "price bands in band order, open-ended band included, empty bands left out",
			q:         search.Query{Text: "northpeak", Limit: 2},
			wantTotal: 8,
			want: []search.Facet{
				{Name: "category", Values: []search.FacetValue{
					fv("camping", "Camping Gear", 2), fv("jackets", "Jackets", 2),
					fv("accessories", "Accessories", 1), fv("backpacks", "Backpacks", 1),
					fv("boots", "Boots", 1), fv("hoodies", "Hoodies & Sweatshirts", 1),
				}},
				{Name: "brand", Values: []search.FacetValue{fv("Northpeak", "Northpeak", 8)}},
				{Name: "price", Values: []search.FacetValue{
					fv("25-50", "25 to 50", 1), fv("50-100", "50 to 100", 1),
					fv("100-200", "100 to 200", 4), fv("200-", "200 and up", 2),
				}},
			},
		},
		{
			name:      "facets count the filtered matches",
			q:         search.Query{Text: "waterproof", Brand: "Northpeak", Limit: 1},
			wantTotal: 3,
			want: []search.Facet{
				{Name: "category", Values: []search.FacetValue{
					fv("accessories", "Accessories", 1), fv("boots", "Boots", 1), fv("jackets", "Jackets", 1),
				}},
				{Name: "brand", Values: []search.FacetValue{fv("Northpeak", "Northpeak", 3)}},
				{Name: "price", Values: []search.FacetValue{
					fv("25-50", "25 to 50", 1), fv("100-200", "100 to 200", 2),
				}},
			},
		},
		{
			name:      "lowest band",
			q:         search.Query{Text: "wool"},
			wantTotal: 2,
			want: []search.Facet{
				{Name: "category", Values: []search.FacetValue{
					fv("accessories", "Accessories", 1), fv("base-layers", "Base Layers", 1),
				}},
				{Name: "brand", Values: []search.FacetValue{fv("Fjordline", "Fjordline", 2)}},
				{Name: "price", Values: []search.FacetValue{
					fv("0-25", "Under 25", 1), fv("50-100", "50 to 100", 1),
				}},
			},
		},
		{
			name:      "no match: three empty facets",
			q:         search.Query{Text: "toaster"},
			wantTotal: 0,
			want: []search.Facet{
				{Name: "category", Values: []search.FacetValue{}},
				{Name: "brand", Values: []search.FacetValue{}},
				{Name: "price", Values: []search.FacetValue{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustSearch(t, idx, tt.q)
			if res.Total != tt.wantTotal {
				t.Errorf("Total = %d, want %d", res.Total, tt.wantTotal)
			}
			if tt.q.Limit > 0 && int64(len(res.Hits)) != min(int64(tt.q.Limit), tt.wantTotal) {
				t.Errorf("got %d hits, want %d", len(res.Hits), min(int64(tt.q.Limit), tt.wantTotal))
			}
			// Empty and nil value lists are the same to callers.
			norm := func(fs []search.Facet) []search.Facet {
				out := slices.Clone(fs)
				for i := range out {
					if out[i].Values == nil {
						out[i].Values = []search.FacetValue{}
					}
				}
				return out
			}
			if diff := cmp.Diff(tt.want, norm(res.Facets)); diff != "" {
				t.Errorf("Facets mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("category and brand capped at 20 values", func(t *testing.T) {
		t.Parallel()
		idx := open(t)
		var docs []search.Document
		for i := range 25 {
			for j := range i + 1 { // category/brand i has i+1 products
				docs = append(docs, search.Document{
					ID:           fmt.Sprintf("d%02d-%02d", i, j),
					Title:        "Gift Card",
					Category:     fmt.Sprintf("cat-%02d", i),
					CategoryName: fmt.Sprintf("Category %02d", i),
					Brand:        fmt.Sprintf("Brand %02d", i),
					Price:        1000,
				})
			}
		}
		if err := idx.Index(t.Context(), docs...); err != nil {
			t.Fatalf("Index: %v", err)
		}
		res := mustSearch(t, idx, search.Query{Text: "gift card", Limit: 1})
		if res.Total != int64(len(docs)) {
			t.Errorf("Total = %d, want %d", res.Total, len(docs))
		}
		var wantCat, wantBrand []search.FacetValue
		for i := 24; i >= 5; i-- { // the 20 biggest
			wantCat = append(wantCat, fv(fmt.Sprintf("cat-%02d", i), fmt.Sprintf("Category %02d", i), int64(i+1)))
			b := fmt.Sprintf("Brand %02d", i)
			wantBrand = append(wantBrand, fv(b, b, int64(i+1)))
		}
		want := []search.Facet{
			{Name: "category", Values: wantCat},
			{Name: "brand", Values: wantBrand},
			{Name: "price", Values: []search.FacetValue{fv("0-25", "Under 25", int64(len(docs)))}},
		}
		if diff := cmp.Diff(want, res.Facets); diff != "" {
			t.Errorf("Facets mismatch (-want +got):\n%s", diff)
		}
	})
}

func testPaging(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	all := ids(mustSearch(t, idx, search.Query{Text: "northpeak", Limit: 100}))
	if len(all) != 8 {
		t.Fatalf("Search(northpeak) found %d, want 8: %v", len(all), all)
	}
	tests := []struct {
		offset, limit int
		want          []string
	}{
		{0, 3, all[0:3]},
		{3, 3, all[3:6]},
		{6, 3, all[6:8]},
		{8, 3, []string{}},
		{50, 3, []string{}},
		{2, 0, all[2:]}, // limit 0 means the default (20)
	}
	var got []string
	for _, tt := range tests {
		res := mustSearch(t, idx, search.Query{Text: "northpeak", Offset: tt.offset, Limit: tt.limit})
		if diff := cmp.Diff(tt.want, ids(res)); diff != "" {
			t.Errorf("offset %d limit %d mismatch (-want +got):\n%s", tt.offset, tt.limit, diff)
		}
		if res.Total != 8 {
			t.Errorf("offset %d limit %d: Total = %d, want 8", tt.offset, tt.limit, res.Total)
		}
		if tt.limit == 3 {
			got = append(got, ids(res)...)
		}
	}
	// The pages of 3 cover every match exactly once.
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("pages joined mismatch (-want +got):\n%s", diff)
	}
	seen := make(map[string]bool)
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s is on two pages", id)
		}
		seen[id] = true
	}
}

func testLimits(t *testing.T, open func(t *testing.T) search.Index) {
	idx := open(t)
	docs := generated("g", 120)
	if err := idx.Index(t.Context(), docs...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	idsOf := func(from, to int) []string {
		out := []string{}
		for _, d := range docs[from:to] {
			out = append(out, d.ID)
		}
		return out
	}
	tests := []struct {
		name          string
		offset, limit int
		want          []string
	}{
		{"limit 0 means 20", 0, 0, idsOf(0, 20)},
		{"limit above 100 is capped at 100", 0, 500, idsOf(0, 100)},
		{"last page", 100, 50, idsOf(100, 120)},
		{"one", 7, 1, idsOf(7, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustSearch(t, idx, search.Query{Text: "gift card", Offset: tt.offset, Limit: tt.limit})
			// Equal scores: the order is by ID.
			if diff := cmp.Diff(tt.want, ids(res)); diff != "" {
				t.Errorf("IDs mismatch (-want +got):\n%s", diff)
			}
			if res.Total != 120 {
				t.Errorf("Total = %d, want 120", res.Total)
			}
		})
	}
}

func testHighlights(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	hitByID := func(t *testing.T, res search.Result, id string) search.Hit {
		t.Helper()
		for _, h := range res.Hits {
			if h.ID == id {
				return h
			}
		}
		t.Fatalf("no hit %s in %v", id, ids(res))
		return search.Hit{}
	}
	t.Run("title", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "jacket"}), "j3")
		if diff := cmp.Diff([]string{"Rain <mark>Jacket</mark>"}, h.Highlights["title"]); diff != "" {
			t.Errorf("title highlight mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("typo is highlighted as the word in the document", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "jakcet"}), "j3")
		if diff := cmp.Diff([]string{"Rain <mark>Jacket</mark>"}, h.Highlights["title"]); diff != "" {
			t.Errorf("title highlight mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("prefix", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "lant"}), "c1")
		if diff := cmp.Diff([]string{"Camp <mark>Lantern</mark>"}, h.Highlights["title"]); diff != "" {
			t.Errorf("title highlight mismatch (-want +got):\n%s", diff)
		}
		checkFragments(t, h.Highlights["description"], "Rechargeable LED lantern with warm light.", "lantern")
	})
	t.Run("prefix marks the whole word", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "hood"}), "h2")
		if diff := cmp.Diff([]string{"Zip <mark>Hoodie</mark>"}, h.Highlights["title"]); diff != "" {
			t.Errorf("title highlight mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("description only", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "lantern"}), "c3")
		if _, ok := h.Highlights["title"]; ok {
			t.Errorf("title highlighted without a match in it: %q", h.Highlights["title"])
		}
		checkFragments(t, h.Highlights["description"], "Freestanding tent; pairs well with our lantern.", "lantern")
	})
	t.Run("HTML in the description is escaped", func(t *testing.T) {
		t.Parallel()
		h := hitByID(t, mustSearch(t, idx, search.Query{Text: "dishwasher"}), "c2")
		frags := h.Highlights["description"]
		checkFragments(t, frags, htmlDescription, "dishwasher")
		joined := strings.Join(frags, " ")
		for _, bad := range []string{"<script", "</script", "alert('x')"} {
			if strings.Contains(joined, bad) {
				t.Errorf("fragments %q contain unescaped %q", frags, bad)
			}
		}
		for _, good := range []string{"&lt;script&gt;", "&amp;"} {
			if !strings.Contains(joined, good) {
				t.Errorf("fragments %q lack %q", frags, good)
			}
		}
	})
}

// checkFragments checks highlight fragments of field text: at least one,
// each marks word (case-insensitively) and, with the marks removed and
// entities decoded, is a piece of text.
func checkFragments(t *testing.T, frags []string, text, word string) {
	t.Helper()
	if len(frags) == 0 {
		t.Fatalf("no fragments, want some marking %q", word)
	}
	for _, f := range frags {
		if !strings.Contains(strings.ToLower(f), "<mark>"+strings.ToLower(word)+"</mark>") {
			t.Errorf("fragment %q does not mark %q", f, word)
		}
		plain := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(f)
		if strings.ContainsAny(plain, "<>") {
			t.Errorf("fragment %q has a tag other than <mark>", f)
		}
		plain = html.UnescapeString(strings.Trim(plain, "…. "))
		if !strings.Contains(text, plain) {
			t.Errorf("fragment %q, unmarked and unescaped %q, is not part of %q", f, plain, text)
		}
	}
}

func testReplace(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	vest := Catalog()[3] // j4, the fleece jacket
	vest.Title = "Fleece Vest"
	vest.Price = 2900
	if err := idx.Index(t.Context(), vest); err != nil {
		t.Fatalf("Index(j4 again): %v", err)
	}
	if got, want := mustCount(t, idx), int64(len(Catalog())); got != want {
		t.Errorf("Count after replacing = %d, want %d", got, want)
	}
	res := mustSearch(t, idx, search.Query{Text: "vest"})
	if diff := cmp.Diff([]string{"j4"}, ids(res)); diff != "" {
		t.Errorf("Search(vest) mismatch (-want +got):\n%s", diff)
	}
	if res.Total != 1 {
		t.Errorf("Search(vest).Total = %d, want 1", res.Total)
	}
	res = mustSearch(t, idx, search.Query{Text: "fleece", PriceBand: "25-50"})
	if diff := cmp.Diff([]string{"j4"}, ids(res)); diff != "" {
		t.Errorf("Search(fleece, 25-50) mismatch (-want +got):\n%s", diff)
	}
	if len(res.Hits) == 1 {
		if diff := cmp.Diff([]string{"<mark>Fleece</mark> Vest"}, res.Hits[0].Highlights["title"]); diff != "" {
			t.Errorf("title highlight mismatch (-want +got):\n%s", diff)
		}
	}
	t.Run("twice in one call", func(t *testing.T) {
		idx := open(t)
		a, b := Catalog()[0], Catalog()[0]
		b.Title = "Alpine Anorak"
		if err := idx.Index(t.Context(), a, b); err != nil {
			t.Fatalf("Index: %v", err)
		}
		if got := mustCount(t, idx); got != 1 {
			t.Errorf("Count = %d, want 1", got)
		}
		res := mustSearch(t, idx, search.Query{Text: "anorak"})
		if diff := cmp.Diff([]string{"j1"}, ids(res)); diff != "" {
			t.Errorf("the later document should win (-want +got):\n%s", diff)
		}
	})
}

func testDelete(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	if err := idx.Delete(t.Context(), "c1", "c3", "no-such-id"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := idx.Delete(t.Context()); err != nil {
		t.Fatalf("Delete() with no IDs: %v", err)
	}
	if got, want := mustCount(t, idx), int64(len(Catalog())-2); got != want {
		t.Errorf("Count after Delete = %d, want %d", got, want)
	}
	res := mustSearch(t, idx, search.Query{Text: "lantern"})
	if diff := cmp.Diff([]string{}, ids(res)); diff != "" {
		t.Errorf("deleted documents still found (-want +got):\n%s", diff)
	}
	if res.Total != 0 {
		t.Errorf("Total = %d, want 0", res.Total)
	}
	// The rest of the category is still there, and counted without them.
	res = mustSearch(t, idx, search.Query{Text: "camping"})
	if diff := cmp.Diff([]string{"c2", "c4", "c5", "c6"}, sorted(ids(res))); diff != "" {
		t.Errorf("Search(camping) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]search.FacetValue{{Value: "camping", Label: "Camping Gear", Count: 4}}, res.Facets[0].Values); diff != "" {
		t.Errorf("category facet mismatch (-want +got):\n%s", diff)
	}
}

func testReset(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	if err := idx.Reset(t.Context()); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if got := mustCount(t, idx); got != 0 {
		t.Errorf("Count after Reset = %d, want 0", got)
	}
	res := mustSearch(t, idx, search.Query{Text: "jacket"})
	if res.Total != 0 || len(res.Hits) != 0 {
		t.Errorf("Search after Reset: Total %d, hits %v; want none", res.Total, ids(res))
	}
	// The index is usable after a reset.
	if err := idx.Index(t.Context(), Catalog()[2]); err != nil {
		t.Fatalf("Index after Reset: %v", err)
	}
	if got := mustCount(t, idx); got != 1 {
		t.Errorf("Count = %d, want 1", got)
	}
	res = mustSearch(t, idx, search.Query{Text: "jacket"})
	if diff := cmp.Diff([]string{"j3"}, ids(res)); diff != "" {
		t.Errorf("Search after re-indexing mismatch (-want +got):\n%s", diff)
	}
}

func testBadInput(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	tests := []struct {
		name string
		q    search.Query
	}{
		{"empty text", search.Query{}},
		{"blank text", search.Query{Text: " \t\n"}},
		{"empty text with filters", search.Query{Category: "jackets"}},
		{"unknown price band", search.Query{Text: "jacket", PriceBand: "cheap"}},
		{"negative offset", search.Query{Text: "jacket", Offset: -1}},
		{"negative limit", search.Query{Text: "jacket", Limit: -5}},
		{"page past the 10,000 result window", search.Query{Text: "jacket", Offset: 9990, Limit: 20}},
		{"huge offset", search.Query{Text: "jacket", Offset: math.MaxInt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := idx.Search(t.Context(), tt.q)
			if err == nil {
				t.Fatalf("Search(%+v) = %d hits, want an error", tt.q, len(res.Hits))
			}
			if err.Error() == "" {
				t.Errorf("Search(%+v) error has no message", tt.q)
			}
		})
	}
	t.Run("empty document ID", func(t *testing.T) {
		t.Parallel()
		doc := Catalog()[0]
		doc.ID = ""
		if err := idx.Index(t.Context(), doc); err == nil {
			t.Fatal("Index of a document without ID succeeded, want an error")
		}
		if got, want := mustCount(t, idx), int64(len(Catalog())); got != want {
			t.Errorf("Count = %d, want %d (nothing indexed)", got, want)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := idx.Search(ctx, search.Query{Text: "jacket"}); err == nil {
			t.Error("Search with a cancelled context succeeded, want an error")
		}
		if err := idx.Index(ctx, generated("cancelled", 1)...); err == nil {
			t.Error("Index with a cancelled context succeeded, want an error")
		}
	})
}

func testConcurrent(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	const (
		writers      = 4
		docsPerWrite = 5
		writes       = 6
		searchers    = 4
		searches     = 15
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers*writes+searchers*searches)
	for w := range writers {
		wg.Go(func() {
			docs := generated(fmt.Sprintf("w%d-", w), docsPerWrite*writes)
			for i := range writes {
				if err := idx.Index(t.Context(), docs[i*docsPerWrite:(i+1)*docsPerWrite]...); err != nil {
					errs <- fmt.Errorf("writer %d: Index: %w", w, err)
					return
				}
			}
		})
	}
	for s := range searchers {
		wg.Go(func() {
			for i := range searches {
				res, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
				if err != nil {
					errs <- fmt.Errorf("searcher %d: Search: %w", s, err)
					return
				}
				// Writers add gift cards only: the jackets stay the same.
				if got := sorted(ids(res)); !slices.Equal(got, []string{"j1", "j2", "j3", "j4", "j5", "p1"}) {
					errs <- fmt.Errorf("searcher %d, search %d: got %v", s, i, got)
				}
				if _, err := idx.Search(t.Context(), search.Query{Text: "gift card", Limit: 5}); err != nil {
					errs <- fmt.Errorf("searcher %d: Search(gift card): %w", s, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := int64(len(Catalog()) + writers*writes*docsPerWrite)
	if got := mustCount(t, idx); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	res := mustSearch(t, idx, search.Query{Text: "gift card", Limit: 1})
	if res.Total != int64(writers*writes*docsPerWrite) {
		t.Errorf("Search(gift card).Total = %d, want %d", res.Total, writers*writes*docsPerWrite)
	}
}

// testHostile sends what a shopper (or a script) may type: query syntax of
// Lucene and Elasticsearch, a 10 kB query, odd Unicode. Every one is
// answered as plain words: no error, no syntax interpreted, a well-formed
// result.
func testHostile(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	tests := []struct {
		name string
		text string
		want []string // nil: any result will do
	}{
		// Whether "title:jacket" is one word or two is the tokenizer's
		// business (Unicode counts a colon between letters as part of a
		// word); what matters is that no field syntax applies.
		{"field syntax", "title:jacket", nil},
		{"boolean operators", "jacket AND NOT brand:Urbanite OR *", nil},
		{"wildcards and regexps", "jack* /.*/ ja?ket", nil},
		{"fuzzy and boost syntax", "jakcet~2^100", []string{"j1", "j2", "j3", "j4", "j5", "p1"}},
		{"unbalanced quotes and brackets", `"rain jacket (( [ { }`, []string{"j3", "p1"}},
		{"JSON", `{"query": {"match_all": {}}}`, nil},
		{"backslashes and control characters", "\\jacket\u0000\x00\t\r\n", nil},
		{"NUL byte", "jacket\x00", []string{"j1", "j2", "j3", "j4", "j5", "p1"}},
		{"invalid UTF-8", "jacket \xff\xfe", []string{"j1", "j2", "j3", "j4", "j5", "p1"}},
		{"10 kB of words", strings.Repeat("jacket waterproof ", 570), []string{"j1", "j3"}},
		{"a 10 kB word", strings.Repeat("x", 10240), []string{}},
		{"emoji", "👟 sneakers", []string{"s1", "s2", "s3", "s4"}},
		{"CJK", "ジャケット", []string{}},
		{"right-to-left", "سترة jacket", []string{"j1", "j2", "j3", "j4", "j5", "p1"}},
		{"zero-width and combining characters", "ja\u200bcket e\u0301te\u0301", nil},
		{"Cyrillic look-alike", "jаcket", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := idx.Search(t.Context(), search.Query{Text: tt.text, Limit: 100})
			if err != nil {
				t.Fatalf("Search(%.40q): %v", tt.text, err)
			}
			if len(res.Facets) != 3 {
				t.Errorf("Search(%.40q) has %d facets, want 3", tt.text, len(res.Facets))
			}
			if int64(len(res.Hits)) > res.Total {
				t.Errorf("Search(%.40q): %d hits but Total %d", tt.text, len(res.Hits), res.Total)
			}
			// No "*" or match_all sneaked through.
			if res.Total >= int64(len(Catalog())) {
				t.Errorf("Search(%.40q) found the whole catalog (%d)", tt.text, res.Total)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, sorted(ids(res))); diff != "" {
					t.Errorf("Search(%.40q) IDs mismatch (-want +got):\n%s", tt.text, diff)
				}
			}
		})
	}
}

// testSynonyms checks the staff's synonym rules on an adapter that has them
// (search.Synonyms): they apply to the next search without a reindex,
// survive Reset, and bad rules are refused without changing the others.
func testSynonyms(t *testing.T, open func(t *testing.T) search.Index) {
	idx := seeded(t, open)
	sy, ok := idx.(search.Synonyms)
	if !ok {
		t.Skip("this adapter has no synonyms")
	}
	find := func(text string) []string {
		t.Helper()
		return sorted(ids(mustSearch(t, idx, search.Query{Text: text, Limit: 100})))
	}
	if got := find("jumper"); len(got) != 0 {
		t.Fatalf("Search(jumper) before any rule = %v, want nothing", got)
	}
	rules := []string{" Jumper, sweatshirt ,hoodie", "toque => beanie", "puffer => down"}
	if err := sy.SetSynonyms(t.Context(), rules); err != nil {
		t.Fatalf("SetSynonyms: %v", err)
	}
	got, err := sy.Synonyms(t.Context())
	if err != nil {
		t.Fatalf("Synonyms: %v", err)
	}
	want := []string{"jumper, sweatshirt, hoodie", "toque => beanie", "puffer => down"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Synonyms (normalised) mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"jumper", []string{"h1", "h2", "h3", "h4"}},     // equivalence: hoodies and the sweatshirt
		{"jumpers", []string{"h1", "h2", "h3", "h4"}},    // plural of a rule word
		{"sweatshirt", []string{"h1", "h2", "h3", "h4"}}, // any word of the rule
		{"toque", []string{"x1"}},                        // rewrite
		{"puffer jacket", []string{"j2"}},                // a rewrite among other words
		{"beanie", []string{"x1"}},                       // a rewrite is one way
		{"jumper fleece", []string{"h4"}},                // both words still required
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, find(tt.text)); diff != "" {
			t.Errorf("Search(%q) with synonyms (-want +got):\n%s", tt.text, diff)
		}
	}
	for _, bad := range [][]string{
		{"lonely"},
		{"a => "},
		{"rain jacket, anorak"},
		{"jumper, sweater", "jumper, pullover"},
		{"<script>, x"},
	} {
		if err := sy.SetSynonyms(t.Context(), bad); err == nil {
			t.Errorf("SetSynonyms(%q) succeeded, want an error", bad)
		}
	}
	if got, _ := sy.Synonyms(t.Context()); !slices.Equal(got, want) {
		t.Errorf("after refused rules, Synonyms = %q, want the previous %q", got, want)
	}
	if err := idx.Reset(t.Context()); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if got, _ := sy.Synonyms(t.Context()); !slices.Equal(got, want) {
		t.Errorf("after Reset, Synonyms = %q, want them kept", got)
	}
	if err := idx.Index(t.Context(), Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	if err := sy.SetSynonyms(t.Context(), nil); err != nil {
		t.Fatalf("SetSynonyms(nil): %v", err)
	}
	if got := find("jumper"); len(got) != 0 {
		t.Errorf("Search(jumper) after clearing the rules = %v, want nothing", got)
	}
}
