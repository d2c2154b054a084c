package bleve

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// fuzzyTerms is a query that matches the indexed terms of one field within
// edits of any of words (a transposition counts as one edit), all of which
// start with the same first letter as the word: Bleve's FuzzyQuery with
// prefix_length 1, found without a Levenshtein automaton.
//
// Bleve's FuzzyQuery builds a Levenshtein automaton for every query and
// field. For two edits that is hundreds of kilobytes and most of a typo
// search's cost (profile in docs/benchmarks.md), while the terms that share
// the word's first letter are few: each is compared with a bounded
// Damerau–Levenshtein distance instead. A candidate at distance d scores
// boost/(d+1), as Bleve scores fuzzy candidates.
type fuzzyTerms struct {
	field string
	words []string // as analysed and as typed; the same first rune
	edits int      // 1 or 2
	boost float64
}

// Searcher implements query.Query.
func (q *fuzzyTerms) Searcher(ctx context.Context, r index.IndexReader, _ mapping.IndexMapping, opts bsearch.SearcherOptions) (bsearch.Searcher, error) {
	terms, dists, err := q.candidates(r)
	if err != nil {
		return nil, err
	}
	if len(terms) == 0 {
		return searcher.NewMatchNoneSearcher(r)
	}
	return searcher.NewMultiTermSearcherBoosted(ctx, r, terms, q.field, q.boost, dists, opts, true)
}

// candidates lists the field's terms within q.edits of a word, with their
// distance to the nearest word.
func (q *fuzzyTerms) candidates(r index.IndexReader) (terms []string, dists []uint8, err error) {
	first, size := utf8.DecodeRuneInString(q.words[0])
	if first == utf8.RuneError && size <= 1 {
		return nil, nil, nil
	}
	dict, err := r.FieldDictPrefix(q.field, []byte(q.words[0][:size]))
	if err != nil {
		return nil, nil, fmt.Errorf("fuzzy terms of %s: %w", q.field, err)
	}
	defer func() {
		if cerr := dict.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var scratch osaScratch
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, nil, fmt.Errorf("fuzzy terms of %s: %w", q.field, err)
		}
		if e == nil {
			return terms, dists, nil
		}
		best := q.edits + 1
		for _, w := range q.words {
			best = min(best, scratch.distance(w, e.Term, q.edits))
		}
		if best <= q.edits {
			if len(terms) == searcher.DisjunctionMaxClauseCount && searcher.DisjunctionMaxClauseCount > 0 {
				return nil, nil, fmt.Errorf("fuzzy terms of %s: more than %d", q.field, searcher.DisjunctionMaxClauseCount)
			}
			terms = append(terms, e.Term)
			dists = append(dists, uint8(best))
		}
	}
}

// osaScratch holds the rows of osaScratch.distance between calls.
type osaScratch struct {
	a, b             []rune
	prev2, prev, cur []int
}

// distance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions) between a and b, or max+1 if it is more than
// max.
func (s *osaScratch) distance(a, b string, max int) int {
	if a == b {
		return 0
	}
	if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
		// One is the other plus a tail: the distance is the tail's length.
		if d := utf8.RuneCountInString(a) - utf8.RuneCountInString(b); d <= max && d >= -max {
			return abs(d)
		}
		return max + 1
	}
	s.a, s.b = append(s.a[:0], []rune(a)...), append(s.b[:0], []rune(b)...)
	ra, rb := s.a, s.b
	if abs(len(ra)-len(rb)) > max {
		return max + 1
	}
	n := len(rb) + 1
	s.prev2, s.prev, s.cur = grow(s.prev2, n), grow(s.prev, n), grow(s.cur, n)
	for j := range n {
		s.prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		s.cur[0] = i
		rowMin := i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d := min(s.prev[j]+1, s.cur[j-1]+1, s.prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d = min(d, s.prev2[j-2]+1)
			}
			s.cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > max {
			return max + 1
		}
		s.prev2, s.prev, s.cur = s.prev, s.cur, s.prev2
	}
	return min(s.prev[len(rb)], max+1)
}

func grow(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
