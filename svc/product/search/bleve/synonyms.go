package bleve

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/emporiumhq/emporium/svc/product/search"
)

var _ search.Synonyms = (*Index)(nil)

// synonymsKey is the internal (non-document) key that holds the synonym
// rules, as JSON.
const synonymsKey = "emporium:synonyms"

// synonymMap maps an analysed query term to the words it stands for; for an
// equivalence the term's own word is among them, for a rewrite it is not.
type synonymMap map[string][]word

// Synonyms implements search.Synonyms.
func (x *Index) Synonyms(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, fmt.Errorf("read synonyms: %w", ErrClosed)
	}
	return append([]string{}, x.rules...), nil
}

// SetSynonyms implements search.Synonyms: the rules are kept in the index
// (and survive Reset) and apply to the next search; documents are not
// touched, as synonyms are expanded at query time.
func (x *Index) SetSynonyms(ctx context.Context, rules []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set synonyms: %w", err)
	}
	parsed, err := search.ParseSynonyms(rules)
	if err != nil {
		return fmt.Errorf("set synonyms: %w", err)
	}
	norm := make([]string, len(parsed))
	for i, r := range parsed {
		norm[i] = r.String()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return fmt.Errorf("set synonyms: %w", ErrClosed)
	}
	data, err := json.Marshal(norm)
	if err != nil {
		return err
	}
	if err := x.idx.SetInternal([]byte(synonymsKey), data); err != nil {
		return fmt.Errorf("set synonyms: %w", err)
	}
	x.rules, x.synonyms = norm, x.buildSynonyms(parsed)
	return nil
}

// loadSynonyms reads the rules kept in the index into x.
func (x *Index) loadSynonyms() error {
	data, err := x.idx.GetInternal([]byte(synonymsKey))
	if err != nil {
		return fmt.Errorf("read synonyms: %w", err)
	}
	var rules []string
	if len(data) > 0 {
		if err := json.Unmarshal(data, &rules); err != nil {
			return fmt.Errorf("read synonyms: %w", err)
		}
	}
	parsed, err := search.ParseSynonyms(rules)
	if err != nil {
		return fmt.Errorf("read synonyms: %w", err)
	}
	x.rules, x.synonyms = rules, x.buildSynonyms(parsed)
	return nil
}

// buildSynonyms maps the analysed form of each rule's source words to the
// words the rule gives.
func (x *Index) buildSynonyms(rules []search.SynonymRule) synonymMap {
	m := synonymMap{}
	for _, r := range rules {
		var to []word
		for _, w := range r.To {
			for _, a := range analyze(x.analyzer, w) {
				to = append(to, word{term: a.term, typed: w, runes: utf8.RuneCountInString(w)})
			}
		}
		for _, w := range r.From {
			for _, a := range analyze(x.analyzer, w) {
				m[a.term] = to
			}
		}
	}
	return m
}
