package estest

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// template is a parsed index template: its patterns, analysers and mapping.
type template struct {
	patterns  []string
	analyzers map[string]analyzerDef
	filters   map[string]filterDef
	fields    map[string]fieldDef // "title", "title.plain", …
	strict    bool
	// dataStream: the template makes data streams, not indexes.
	dataStream bool
}

type analyzerDef struct {
	Type      string   `json:"type"`
	Tokenizer string   `json:"tokenizer"`
	Filter    []string `json:"filter"`
}

type filterDef struct {
	Type        string   `json:"type"`
	Stopwords   []string `json:"stopwords"`
	Language    string   `json:"language"`
	SynonymsSet string   `json:"synonyms_set"`
	Updateable  bool     `json:"updateable"`
}

type fieldDef struct {
	Type           string              `json:"type"`
	Analyzer       string              `json:"analyzer"`
	SearchAnalyzer string              `json:"search_analyzer"`
	Index          *bool               `json:"index"`
	Fields         map[string]fieldDef `json:"fields"`
}

// parseTemplate reads the parts of a template the fake models, refusing
// what it does not know (so that the adapter cannot drift from it unseen).
func parseTemplate(patterns []string, settings, mappings json.RawMessage) (*template, *apiError) {
	t := &template{patterns: patterns, analyzers: map[string]analyzerDef{}, filters: map[string]filterDef{}, fields: map[string]fieldDef{}}
	var s struct {
		Index    map[string]any `json:"index"`
		Analysis struct {
			Filter   map[string]filterDef   `json:"filter"`
			Analyzer map[string]analyzerDef `json:"analyzer"`
		} `json:"analysis"`
	}
	if len(settings) > 0 {
		if err := decode(settings, &s); err != nil {
			return nil, err
		}
	}
	for name, fd := range s.Analysis.Filter {
		switch {
		case fd.Type == "stop":
		case fd.Type == "stemmer" && (fd.Language == "minimal_english" || fd.Language == "possessive_english"):
		case fd.Type == "synonym_graph" && fd.SynonymsSet != "":
		default:
			return nil, errorf(400, "illegal_argument_exception", "fake: token filter [%s] of type [%s] (language %q) is not modelled", name, fd.Type, fd.Language)
		}
		t.filters[name] = fd
	}
	for name, ad := range s.Analysis.Analyzer {
		if ad.Type != "custom" || ad.Tokenizer != "standard" {
			return nil, errorf(400, "illegal_argument_exception", "fake: analyzer [%s] must be custom on the standard tokenizer", name)
		}
		for _, fl := range ad.Filter {
			if _, ok := t.filters[fl]; !ok && fl != "lowercase" && fl != "asciifolding" {
				return nil, errorf(400, "illegal_argument_exception", "failed to find filter under name [%s]", fl)
			}
		}
		t.analyzers[name] = ad
	}
	var m struct {
		Dynamic    string              `json:"dynamic"`
		Properties map[string]fieldDef `json:"properties"`
	}
	if err := decode(mappings, &m); err != nil {
		return nil, err
	}
	t.strict = m.Dynamic == "strict"
	for name, fd := range m.Properties {
		if err := t.addField(name, fd); err != nil {
			return nil, err
		}
		for sub, sd := range fd.Fields {
			if err := t.addField(name+"."+sub, sd); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func (t *template) addField(name string, fd fieldDef) *apiError {
	switch fd.Type {
	case "text":
		for _, a := range []string{fd.Analyzer, fd.SearchAnalyzer} {
			if _, ok := t.analyzers[a]; a != "" && !ok {
				return errorf(400, "mapper_parsing_exception", "analyzer [%s] has not been configured in mappings", a)
			}
		}
	case "keyword", "long", "boolean", "date":
	default:
		return errorf(400, "mapper_parsing_exception", "fake: field type [%s] of [%s] is not modelled", fd.Type, name)
	}
	t.fields[name] = fd
	return nil
}

// synonymSets lists the synonyms sets the analysers read.
func (t *template) synonymSets() map[string]bool {
	out := map[string]bool{}
	for _, fd := range t.filters {
		if fd.SynonymsSet != "" {
			out[fd.SynonymsSet] = true
		}
	}
	return out
}

// checkSource refuses fields a strict mapping does not have.
func (t *template) checkSource(src map[string]any) *apiError {
	for k, v := range src {
		fd, ok := t.fields[k]
		if !ok {
			if t.strict {
				return errorf(400, "strict_dynamic_mapping_exception", "[1:2] mapping set to strict, dynamic introduction of [%s] within [_doc] is not allowed", k)
			}
			continue
		}
		bad := false
		switch fd.Type {
		case "text", "keyword", "date":
			_, isStr := v.(string)
			bad = !isStr
		case "long":
			n, isNum := v.(float64)
			bad = !isNum || n != float64(int64(n))
		case "boolean":
			_, isBool := v.(bool)
			bad = !isBool
		}
		if bad {
			return errorf(400, "document_parsing_exception", "[1:2] failed to parse field [%s] of type [%s]", k, fd.Type)
		}
	}
	return nil
}

// token is one analysed word: its term, where it came from in the text (byte
// offsets) and its position.
type token struct {
	term       string
	start, end int
	pos        int
}

// analyzer returns the analyser of field for indexing or searching.
func (t *template) analyzer(field string, searching bool) (analyzerDef, bool) {
	fd, ok := t.fields[field]
	if !ok || fd.Type != "text" {
		return analyzerDef{}, false
	}
	name := fd.Analyzer
	if searching && fd.SearchAnalyzer != "" {
		name = fd.SearchAnalyzer
	}
	if name == "" {
		return analyzerDef{Tokenizer: "standard", Filter: []string{"lowercase"}}, true
	}
	return t.analyzers[name], true
}

// analyze runs an analyser over text; synonyms gives a synonyms set's
// rules. Synonyms add tokens at the position of the word they expand.
func (t *template) analyze(a analyzerDef, text string, synonyms func(set string) []synonymRule) []token {
	toks := standardTokens(text)
	for k, fl := range a.Filter {
		switch fl {
		case "lowercase":
			for i := range toks {
				toks[i].term = strings.ToLower(toks[i].term)
			}
			continue
		case "asciifolding":
			for i := range toks {
				toks[i].term = fold(toks[i].term)
			}
			continue
		}
		fd := t.filters[fl]
		switch {
		case fd.Type == "stop":
			stop := map[string]bool{}
			for _, w := range fd.Stopwords {
				stop[w] = true
			}
			kept := toks[:0]
			for _, tk := range toks {
				if !stop[tk.term] {
					kept = append(kept, tk)
				}
			}
			toks = kept
		case fd.Type == "stemmer" && fd.Language == "possessive_english":
			for i := range toks {
				toks[i].term = strings.TrimSuffix(strings.TrimSuffix(toks[i].term, "'s"), "’s")
			}
		case fd.Type == "stemmer" && fd.Language == "minimal_english":
			for i := range toks {
				toks[i].term = minimalEnglish(toks[i].term)
			}
		case fd.Type == "synonym_graph":
			if synonyms == nil {
				continue
			}
			// Elasticsearch parses a rule's words with the filters before
			// the synonym filter.
			before := analyzerDef{Tokenizer: a.Tokenizer, Filter: a.Filter[:k]}
			norm := func(w string) string {
				if ts := t.analyze(before, w, nil); len(ts) == 1 {
					return ts[0].term
				}
				return w
			}
			rules := synonyms(fd.SynonymsSet)
			var out []token
			for _, tk := range toks {
				out = append(out, expand(rules, tk, norm)...)
			}
			toks = out
		}
	}
	return toks
}

// standardTokens approximates the standard tokenizer: runs of letters,
// digits and combining marks, with an apostrophe between letters kept.
func standardTokens(text string) []token {
	var toks []token
	start := -1
	runes := []rune(text)
	offsets := make([]int, len(runes)+1)
	o := 0
	for i, r := range runes {
		offsets[i] = o
		o += len(string(r))
	}
	offsets[len(runes)] = o
	isWord := func(i int) bool {
		r := runes[i]
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			return true
		}
		return (r == '\'' || r == '’') && i > 0 && i+1 < len(runes) && unicode.IsLetter(runes[i-1]) && unicode.IsLetter(runes[i+1])
	}
	for i := 0; i <= len(runes); i++ {
		if i < len(runes) && isWord(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, token{term: string(runes[start:i]), start: offsets[start], end: offsets[i], pos: len(toks)})
			start = -1
		}
	}
	return toks
}

// fold removes diacritics ("été" → "ete"), like asciifolding for Latin text.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// minimalEnglish is Lucene's EnglishMinimalStemmer (plurals only).
func minimalEnglish(s string) string {
	b := []rune(s)
	n := len(b)
	if n < 3 || b[n-1] != 's' {
		return s
	}
	switch b[n-2] {
	case 'u', 's':
		return s
	case 'e':
		if n > 3 && b[n-3] == 'i' && b[n-4] != 'a' && b[n-4] != 'e' {
			b[n-3] = 'y'
			return string(b[:n-2])
		}
		if b[n-3] == 'i' || b[n-3] == 'a' || b[n-3] == 'o' || b[n-3] == 'e' {
			return s
		}
	}
	return string(b[:n-1])
}

// rule is a parsed single-word synonym rule.
type rule struct {
	from []string // words the rule applies to
	to   []string // words they become (all the group for "a, b, c")
}

// parseRule reads Solr's synonym format: "a, b, c" or "a, b => c".
func parseRule(s string) (rule, error) {
	split := func(p string) []string {
		var out []string
		for _, w := range strings.Split(p, ",") {
			if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
				out = append(out, w)
			}
		}
		return out
	}
	if from, to, ok := strings.Cut(s, "=>"); ok {
		r := rule{from: split(from), to: split(to)}
		if len(r.from) == 0 || len(r.to) == 0 {
			return rule{}, fmt.Errorf("empty side of =>")
		}
		return r, nil
	}
	words := split(s)
	if len(words) < 2 {
		return rule{}, fmt.Errorf("a rule needs two words or more")
	}
	return rule{from: words, to: append([]string(nil), words...)}, nil
}

// expand applies single-word rules to one token: the words it stands for,
// at its position (itself included for equivalences). Multi-word synonyms
// are not modelled: their words only match alone.
func expand(rules []synonymRule, tk token, norm func(string) string) []token {
	out := []token{tk}
	seen := map[string]bool{tk.term: true}
	for _, sr := range rules {
		r, err := parseRule(sr.Synonyms)
		if err != nil {
			continue
		}
		for i := range r.from {
			r.from[i] = norm(r.from[i])
		}
		for i := range r.to {
			r.to[i] = norm(r.to[i])
		}
		applies := false
		for _, w := range r.from {
			applies = applies || w == tk.term
		}
		if !applies {
			continue
		}
		if !strings.Contains(sr.Synonyms, "=>") {
			for _, w := range r.to {
				if !seen[w] {
					seen[w] = true
					out = append(out, token{term: w, start: tk.start, end: tk.end, pos: tk.pos})
				}
			}
			continue
		}
		out = out[:0]
		seen = map[string]bool{}
		for _, w := range r.to {
			if !seen[w] {
				seen[w] = true
				out = append(out, token{term: w, start: tk.start, end: tk.end, pos: tk.pos})
			}
		}
	}
	return out
}

// editDistance is the optimal-string-alignment distance (a transposition
// counts as one edit), as Lucene's fuzzy queries with transpositions.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// fuzzyMatch tells whether an indexed term is within edits of a query term
// and shares its first prefixLength runes (a match query's prefix_length).
func fuzzyMatch(indexed, term string, edits, prefixLength int) bool {
	ri, rt := []rune(indexed), []rune(term)
	if prefixLength > 0 && (len(ri) < prefixLength || len(rt) < prefixLength || string(ri[:prefixLength]) != string(rt[:prefixLength])) {
		return false
	}
	return editDistance(indexed, term) <= edits
}

// prefixLength reads a match query's prefix_length (0 when absent).
func prefixLength(p map[string]any) (int, *apiError) {
	v, ok := p["prefix_length"]
	if !ok {
		return 0, nil
	}
	n, ok := v.(float64)
	if !ok || n < 0 || n != float64(int(n)) {
		return 0, errorf(400, "parsing_exception", "[match] prefix_length must be a non-negative integer, got [%v]", v)
	}
	return int(n), nil
}

// maxEdits reads a fuzziness ("AUTO", "AUTO:low,high", "0", "1", "2") for a
// term.
func maxEdits(fuzziness string, term string) (int, *apiError) {
	n := len([]rune(term))
	switch fuzziness {
	case "", "0":
		return 0, nil
	case "1":
		return 1, nil
	case "2":
		return 2, nil
	}
	low, high := 3, 6
	if rest, ok := strings.CutPrefix(fuzziness, "AUTO:"); ok {
		if _, err := fmt.Sscanf(rest, "%d,%d", &low, &high); err != nil {
			return 0, errorf(400, "parse_exception", "failed to parse fuzziness [%s]", fuzziness)
		}
	} else if fuzziness != "AUTO" {
		return 0, errorf(400, "parse_exception", "failed to parse fuzziness [%s]", fuzziness)
	}
	switch {
	case n < low:
		return 0, nil
	case n < high:
		return 1, nil
	default:
		return 2, nil
	}
}

// hasTimestamp reports whether the mapping has the @timestamp date field
// a data stream needs.
func (t *template) hasTimestamp() bool {
	fd, ok := t.fields["@timestamp"]
	return ok && fd.Type == "date"
}
