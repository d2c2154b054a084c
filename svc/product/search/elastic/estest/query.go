package estest

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// analyzeDoc analyses every text field (and subfield) of a source.
func (t *template) analyzeDoc(src map[string]any) map[string][]token {
	out := map[string][]token{}
	for name := range t.fields {
		base, _, _ := strings.Cut(name, ".")
		text, ok := src[base].(string)
		if !ok {
			continue
		}
		if a, ok := t.analyzer(name, false); ok {
			out[name] = t.analyze(a, text, nil)
		}
	}
	return out
}

// searcher evaluates one search over the documents of some indexes.
type searcher struct {
	f     *Fake
	tpl   *template
	terms map[string][]token // analysed query texts, by field and text
}

// queryTerms analyses a query text for field, once per search.
func (s *searcher) queryTerms(field string, a analyzerDef, text string) []token {
	key := field + "\x00" + text
	if t, ok := s.terms[key]; ok {
		return t
	}
	if s.terms == nil {
		s.terms = map[string][]token{}
	}
	t := s.tpl.analyze(a, text, s.synonyms)
	s.terms[key] = t
	return t
}

func (s *searcher) synonyms(set string) []synonymRule { return s.f.synonyms[set] }

// clauseOf splits a query object {"type": body} into its type and body.
func clauseOf(q any) (string, map[string]any, *apiError) {
	m, ok := q.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, errorf(400, "parsing_exception", "query malformed, must be an object with one key: %v", q)
	}
	for k, v := range m {
		body, ok := v.(map[string]any)
		if !ok {
			return "", nil, errorf(400, "parsing_exception", "[%s] query malformed, no start_object after query name", k)
		}
		return k, body, nil
	}
	panic("unreachable")
}

// fieldOf splits {"field": params} where params is a value or an object.
func fieldOf(typ string, body map[string]any) (string, map[string]any, *apiError) {
	if len(body) != 1 {
		return "", nil, errorf(400, "parsing_exception", "[%s] query doesn't support multiple fields, found %d", typ, len(body))
	}
	for f, v := range body {
		if m, ok := v.(map[string]any); ok {
			return f, m, nil
		}
		return f, map[string]any{"query": v, "value": v}, nil
	}
	panic("unreachable")
}

func boostOf(p map[string]any) float64 {
	if b, ok := p["boost"].(float64); ok {
		return b
	}
	return 1
}

// list reads a clause list that may be one object or an array.
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

// eval reports whether q matches d and its score.
func (s *searcher) eval(q any, d *doc) (bool, float64, *apiError) {
	typ, body, err := clauseOf(q)
	if err != nil {
		return false, 0, err
	}
	switch typ {
	case "match_all":
		return true, boostOf(body), nil
	case "bool":
		for k := range body {
			switch k {
			case "must", "should", "filter", "must_not", "minimum_should_match", "boost":
			default:
				return false, 0, errorf(400, "parsing_exception", "[bool] query does not support [%s]", k)
			}
		}
		score := 0.0
		for _, c := range list(body["must"]) {
			ok, sc, err := s.eval(c, d)
			if err != nil || !ok {
				return false, 0, err
			}
			score += sc
		}
		for _, c := range list(body["filter"]) {
			ok, _, err := s.eval(c, d)
			if err != nil || !ok {
				return false, 0, err
			}
		}
		for _, c := range list(body["must_not"]) {
			ok, _, err := s.eval(c, d)
			if err != nil {
				return false, 0, err
			}
			if ok {
				return false, 0, nil
			}
		}
		should := list(body["should"])
		msm := 0
		if len(list(body["must"]))+len(list(body["filter"])) == 0 && len(should) > 0 {
			msm = 1
		}
		switch v := body["minimum_should_match"].(type) {
		case float64:
			msm = int(v)
		case string:
			if _, err := fmt.Sscanf(v, "%d", &msm); err != nil {
				return false, 0, errorf(400, "parsing_exception", "fake: minimum_should_match [%s] is not modelled", v)
			}
		}
		matched := 0
		for _, c := range should {
			ok, sc, err := s.eval(c, d)
			if err != nil {
				return false, 0, err
			}
			if ok {
				matched++
				score += sc
			}
		}
		if matched < msm {
			return false, 0, nil
		}
		return true, score * boostOf(body), nil
	case "dis_max":
		tie, _ := body["tie_breaker"].(float64)
		best, sum, any := 0.0, 0.0, false
		for _, c := range list(body["queries"]) {
			ok, sc, err := s.eval(c, d)
			if err != nil {
				return false, 0, err
			}
			if ok {
				any = true
				sum += sc
				best = math.Max(best, sc)
			}
		}
		return any, (best + tie*(sum-best)) * boostOf(body), nil
	case "match", "match_phrase_prefix":
		field, p, err := fieldOf(typ, body)
		if err != nil {
			return false, 0, err
		}
		for k := range p {
			switch k {
			case "query", "value", "boost", "fuzziness", "prefix_length", "operator":
			default:
				return false, 0, errorf(400, "parsing_exception", "[%s] query does not support [%s]", typ, k)
			}
		}
		text, _ := p["query"].(string)
		a, ok := s.tpl.analyzer(field, true)
		if !ok {
			return false, 0, errorf(400, "query_shard_exception", "fake: [%s] on [%s], which is not a text field", typ, field)
		}
		terms := s.queryTerms(field, a, text)
		if len(terms) == 0 {
			return false, 0, nil
		}
		docToks := d.tokens[field]
		if typ == "match_phrase_prefix" {
			return s.phrasePrefix(terms, docToks), boostOf(p), nil
		}
		fz, _ := p["fuzziness"].(string)
		pl, perr := prefixLength(p)
		if perr != nil {
			return false, 0, perr
		}
		// Group terms by position (synonyms share one); each position that
		// matches scores the boost.
		byPos := map[int][]string{}
		for _, tk := range terms {
			byPos[tk.pos] = append(byPos[tk.pos], tk.term)
		}
		matched := 0
		for _, alts := range byPos {
			hit := false
			for _, term := range alts {
				edits, err := maxEdits(fz, term)
				if err != nil {
					return false, 0, err
				}
				for _, dt := range docToks {
					if dt.term == term || (edits > 0 && fuzzyMatch(dt.term, term, edits, pl)) {
						hit = true
						break
					}
				}
			}
			if hit {
				matched++
			}
		}
		if op, _ := p["operator"].(string); strings.EqualFold(op, "and") && matched < len(byPos) {
			return false, 0, nil
		}
		return matched > 0, float64(matched) * boostOf(p), nil
	case "exists":
		field, _ := body["field"].(string)
		if field == "" || len(body) != 1 {
			return false, 0, errorf(400, "parsing_exception", "[exists] query takes exactly one [field]")
		}
		return d.source[field] != nil, 1, nil
	case "term":
		field, p, err := fieldOf(typ, body)
		if err != nil {
			return false, 0, err
		}
		if _, ok := s.tpl.fields[field]; !ok {
			return false, 0, nil
		}
		return fmt.Sprint(d.source[field]) == fmt.Sprint(p["value"]), boostOf(p), nil
	case "range":
		field, p, err := fieldOf(typ, body)
		if err != nil {
			return false, 0, err
		}
		v, ok := d.source[field].(float64)
		if !ok {
			return false, 0, nil
		}
		for k, bound := range p {
			b, isNum := bound.(float64)
			if k == "boost" {
				continue
			}
			if !isNum {
				return false, 0, errorf(400, "parsing_exception", "fake: range bound [%s] must be a number", k)
			}
			switch k {
			case "gte":
				ok = ok && v >= b
			case "gt":
				ok = ok && v > b
			case "lte":
				ok = ok && v <= b
			case "lt":
				ok = ok && v < b
			default:
				return false, 0, errorf(400, "parsing_exception", "[range] query does not support [%s]", k)
			}
		}
		return ok, boostOf(p), nil
	}
	return false, 0, errorf(400, "parsing_exception", "unknown query [%s]", typ)
}

// phrasePrefix matches terms as a phrase whose last term is a prefix.
func (s *searcher) phrasePrefix(terms, docToks []token) bool {
	for i := range docToks {
		ok := true
		for j, tk := range terms {
			if i+j >= len(docToks) {
				ok = false
				break
			}
			dt := docToks[i+j]
			if j == len(terms)-1 {
				ok = ok && strings.HasPrefix(dt.term, tk.term)
			} else {
				ok = ok && dt.term == tk.term
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// searchRequest is the body of _search.
type searchRequest struct {
	From           *int              `json:"from"`
	Size           *int              `json:"size"`
	TrackTotalHits any               `json:"track_total_hits"`
	Source         any               `json:"_source"`
	Query          any               `json:"query"`
	Sort           []map[string]any  `json:"sort"`
	Highlight      *highlightRequest `json:"highlight"`
	Aggs           json.RawMessage   `json:"aggs"`
}

type highlightRequest struct {
	PreTags           []string                   `json:"pre_tags"`
	PostTags          []string                   `json:"post_tags"`
	Encoder           string                     `json:"encoder"`
	RequireFieldMatch *bool                      `json:"require_field_match"`
	HighlightQuery    any                        `json:"highlight_query"`
	Fields            map[string]highlightFields `json:"fields"`
}

type highlightFields struct {
	NumberOfFragments *int `json:"number_of_fragments"`
	FragmentSize      int  `json:"fragment_size"`
}

type scored struct {
	d     *doc
	score float64
}

func (f *Fake) search(target string, body []byte) (int, any, *apiError) {
	idxs, err := f.resolve(target, false)
	if err != nil {
		return 0, nil, err
	}
	var raw map[string]json.RawMessage
	if err := decode(body, &raw); err != nil {
		return 0, nil, err
	}
	for k := range raw {
		switch k {
		case "from", "size", "track_total_hits", "_source", "query", "sort", "highlight", "aggs":
		default:
			return 0, nil, errorf(400, "parsing_exception", "Unknown key for a START_OBJECT in [%s].", k)
		}
	}
	var req searchRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	from, size := 0, 10
	if req.From != nil {
		from = *req.From
	}
	if req.Size != nil {
		size = *req.Size
	}
	if from < 0 || size < 0 {
		return 0, nil, errorf(400, "illegal_argument_exception", "[from] parameter cannot be negative")
	}
	if from+size > 10000 {
		return 0, nil, errorf(400, "illegal_argument_exception",
			"Result window is too large, from + size must be less than or equal to: [10000] but was [%d].", from+size)
	}
	query := req.Query
	if query == nil {
		query = map[string]any{"match_all": map[string]any{}}
	}
	var matches []scored
	for _, idx := range idxs {
		s := &searcher{f: f, tpl: idx.tpl}

		for _, d := range idx.docs {
			ok, sc, err := s.eval(query, d)
			if err != nil {
				return 0, nil, err
			}
			if ok {
				// Scores travel as 32-bit floats, as Lucene's do.
				matches = append(matches, scored{d: d, score: float64(float32(sc))})
			}
		}
	}
	if err := sortHits(matches, req.Sort); err != nil {
		return 0, nil, err
	}
	aggs, aerr := (&searcher{f: f, tpl: idxs[0].tpl}).aggregate(req.Aggs, matches)
	if aerr != nil {
		return 0, nil, aerr
	}
	page := matches[min(from, len(matches)):min(from+size, len(matches))]
	hits := make([]any, 0, len(page))
	maxScore := 0.0
	for _, m := range matches {
		maxScore = math.Max(maxScore, m.score)
	}
	for _, m := range page {
		h := map[string]any{"_index": idxs[0].name, "_id": m.d.id, "_score": m.score}
		if src, ok := req.Source.(bool); !ok || src {
			h["_source"] = m.d.source
		}
		if len(req.Sort) > 0 {
			var vals []any
			for _, sf := range req.Sort {
				for k := range sf {
					if k == "_score" {
						vals = append(vals, m.score)
					} else {
						vals = append(vals, m.d.source[k])
					}
				}
			}
			h["sort"] = vals
		}
		if req.Highlight != nil {
			s := &searcher{f: f, tpl: idxs[0].tpl, terms: map[string][]token{}}
			hl, err := s.highlight(req.Highlight, query, m.d)
			if err != nil {
				return 0, nil, err
			}
			if len(hl) > 0 {
				h["highlight"] = hl
			}
		}
		hits = append(hits, h)
	}
	res := map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": len(idxs), "successful": len(idxs), "skipped": 0, "failed": 0},
		"hits": map[string]any{
			"total":     map[string]any{"value": len(matches), "relation": "eq"},
			"max_score": maxScore,
			"hits":      hits,
		},
	}
	if len(aggs) > 0 {
		res["aggregations"] = aggs
	}
	return 200, res, nil
}

// sortHits orders matches by the sort clauses (score, then keyword fields).
func sortHits(ms []scored, clauses []map[string]any) *apiError {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, c := range clauses {
		for field, v := range c {
			order, _ := v.(string)
			if m, ok := v.(map[string]any); ok {
				order, _ = m["order"].(string)
			}
			if order != "asc" && order != "desc" {
				return errorf(400, "parsing_exception", "fake: sort on [%s] needs order asc or desc", field)
			}
			keys = append(keys, key{field, order == "desc"})
		}
	}
	if len(keys) == 0 {
		keys = []key{{"_score", true}}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		for _, k := range keys {
			var c int
			if k.field == "_score" {
				c = cmpFloat(ms[i].score, ms[j].score)
			} else {
				c = strings.Compare(fmt.Sprint(ms[i].d.source[k.field]), fmt.Sprint(ms[j].d.source[k.field]))
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matcher is one term of the highlight query.
type matcher struct {
	term         string
	edits        int
	prefixLength int // leading runes a fuzzy match must share
	prefix       bool
}

// matchers collects the words of a query's match clauses.
func (s *searcher) matchers(q any) ([]matcher, *apiError) {
	typ, body, err := clauseOf(q)
	if err != nil {
		return nil, err
	}
	var out []matcher
	switch typ {
	case "bool":
		for _, k := range []string{"must", "should"} {
			for _, c := range list(body[k]) {
				ms, err := s.matchers(c)
				if err != nil {
					return nil, err
				}
				out = append(out, ms...)
			}
		}
	case "dis_max":
		for _, c := range list(body["queries"]) {
			ms, err := s.matchers(c)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
		}
	case "match", "match_phrase_prefix":
		field, p, err := fieldOf(typ, body)
		if err != nil {
			return nil, err
		}
		text, _ := p["query"].(string)
		a, ok := s.tpl.analyzer(field, true)
		if !ok {
			return nil, nil
		}
		terms := s.queryTerms(field, a, text)
		fz, _ := p["fuzziness"].(string)
		pl, perr := prefixLength(p)
		if perr != nil {
			return nil, perr
		}
		for i, tk := range terms {
			edits, err := maxEdits(fz, tk.term)
			if err != nil {
				return nil, err
			}
			out = append(out, matcher{term: tk.term, edits: edits, prefixLength: pl, prefix: typ == "match_phrase_prefix" && i == len(terms)-1})
		}
	}
	return out, nil
}

// highlight marks the words of d's highlighted fields that the highlight
// query matches (any field's terms: require_field_match false).
func (s *searcher) highlight(h *highlightRequest, query any, d *doc) (map[string][]string, *apiError) {
	if h.RequireFieldMatch == nil || *h.RequireFieldMatch {
		return nil, errorf(400, "illegal_argument_exception", "fake: only require_field_match false is modelled")
	}
	q := h.HighlightQuery
	if q == nil {
		q = query
	}
	ms, err := s.matchers(q)
	if err != nil {
		return nil, err
	}
	pre, post := "<em>", "</em>"
	if len(h.PreTags) > 0 {
		pre = h.PreTags[0]
	}
	if len(h.PostTags) > 0 {
		post = h.PostTags[0]
	}
	enc := func(s string) string { return s }
	if h.Encoder == "html" {
		enc = html.EscapeString
	}
	out := map[string][]string{}
	for field, opts := range h.Fields {
		text, ok := d.source[field].(string)
		if !ok {
			continue
		}
		a, _ := s.tpl.analyzer(field, false)
		var marks [][2]int
		for _, raw := range standardTokens(text) {
			forms := []string{fold(strings.ToLower(raw.term))}
			for _, tk := range s.tpl.analyze(a, text[raw.start:raw.end], nil) {
				forms = append(forms, tk.term)
			}
			if matchesAny(ms, forms) {
				marks = append(marks, [2]int{raw.start, raw.end})
			}
		}
		if len(marks) == 0 {
			continue
		}
		out[field] = fragments(text, marks, opts, pre, post, enc)
	}
	return out, nil
}

func matchesAny(ms []matcher, forms []string) bool {
	for _, m := range ms {
		for _, f := range forms {
			if f == m.term || (m.prefix && strings.HasPrefix(f, m.term)) || (m.edits > 0 && fuzzyMatch(f, m.term, m.edits, m.prefixLength)) {
				return true
			}
		}
	}
	return false
}

// fragments cuts text into marked fragments: the whole text when
// number_of_fragments is 0 or the text fits in fragment_size, else the
// sentences holding a mark, in order.
func fragments(text string, marks [][2]int, opts highlightFields, pre, post string, enc func(string) string) []string {
	markRange := func(from, to int) string {
		var b strings.Builder
		at := from
		for _, m := range marks {
			if m[0] < from || m[1] > to {
				continue
			}
			b.WriteString(enc(text[at:m[0]]))
			b.WriteString(pre + enc(text[m[0]:m[1]]) + post)
			at = m[1]
		}
		b.WriteString(enc(text[at:to]))
		return b.String()
	}
	size := opts.FragmentSize
	if size == 0 {
		size = 100
	}
	n := 5
	if opts.NumberOfFragments != nil {
		n = *opts.NumberOfFragments
	}
	if n == 0 || len(text) <= size {
		return []string{markRange(0, len(text))}
	}
	var out []string
	start := 0
	for start < len(text) && len(out) < n {
		end := len(text)
		if i := strings.Index(text[start:], ". "); i >= 0 {
			end = start + i + 1
		}
		for _, m := range marks {
			if m[0] >= start && m[1] <= end {
				out = append(out, strings.TrimSpace(markRange(start, end)))
				break
			}
		}
		start = end
	}
	return out
}
