package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// namedAgg is one aggregation of a request, in the order the request gives
// them: Elasticsearch runs a bucket's pipeline aggregations in that order.
type namedAgg struct {
	name string
	raw  json.RawMessage
}

// orderedAggs parses an "aggs" object keeping its keys' order.
func orderedAggs(raw json.RawMessage) ([]namedAgg, *apiError) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errorf(400, "parsing_exception", "[aggs] must be an object")
	}
	var out []namedAgg
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorf(400, "parsing_exception", "[aggs]: %v", err)
		}
		var body json.RawMessage
		if err := dec.Decode(&body); err != nil {
			return nil, errorf(400, "parsing_exception", "[aggs]: %v", err)
		}
		out = append(out, namedAgg{name: tok.(string), raw: body})
	}
	return out, nil
}

// aggDef is one aggregation's definition: exactly one type, and sub-aggregations.
type aggDef struct {
	Terms *struct {
		Field string          `json:"field"`
		Size  *int            `json:"size"`
		Order json.RawMessage `json:"order"`
	} `json:"terms"`
	Range *struct {
		Field  string `json:"field"`
		Ranges []struct {
			Key  string   `json:"key"`
			From *float64 `json:"from"`
			To   *float64 `json:"to"`
		} `json:"ranges"`
	} `json:"range"`
	Filter any `json:"filter"`
	Max    *struct {
		Field string `json:"field"`
	} `json:"max"`
	BucketSelector *struct {
		BucketsPath map[string]string `json:"buckets_path"`
		Script      string            `json:"script"`
	} `json:"bucket_selector"`
	BucketSort *struct {
		From int             `json:"from"`
		Size *int            `json:"size"`
		Sort json.RawMessage `json:"sort"`
	} `json:"bucket_sort"`
	Aggs json.RawMessage `json:"aggs"`
}

func parseAgg(name string, raw json.RawMessage) (*aggDef, *apiError) {
	var keys map[string]json.RawMessage
	if err := decode(raw, &keys); err != nil {
		return nil, err
	}
	types := 0
	for k := range keys {
		switch k {
		case "terms", "range", "filter", "max", "bucket_selector", "bucket_sort":
			types++
		case "aggs":
		default:
			return nil, errorf(400, "parsing_exception", "fake: aggregation type [%s] of [%s] is not modelled", k, name)
		}
	}
	if types != 1 {
		return nil, errorf(400, "parsing_exception", "Expected [START_OBJECT] under [%s], but got %d aggregation types", name, types)
	}
	var a aggDef
	if err := decode(raw, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

func (a *aggDef) pipeline() bool { return a.BucketSelector != nil || a.BucketSort != nil }

// aggregate computes aggs over the matches: terms (with order and
// sub-aggregations), range, filter and max, and in a bucket's
// sub-aggregations the bucket_selector and bucket_sort pipelines.
func (s *searcher) aggregate(raw json.RawMessage, ms []scored) (map[string]any, *apiError) {
	aggs, err := orderedAggs(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, na := range aggs {
		a, err := parseAgg(na.name, na.raw)
		if err != nil {
			return nil, err
		}
		if a.pipeline() {
			return nil, errorf(400, "action_request_validation_exception", "Validation Failed: 1: bucket pipeline [%s] must be declared inside a multi-bucket aggregation;", na.name)
		}
		res, err := s.metricOrBucket(na.name, a, ms)
		if err != nil {
			return nil, err
		}
		out[na.name] = res
	}
	return out, nil
}

// bucket is one bucket of a multi-bucket aggregation while it is built.
type bucket struct {
	key   any
	count int
	ms    []scored
	sub   map[string]any
}

func (s *searcher) metricOrBucket(name string, a *aggDef, ms []scored) (map[string]any, *apiError) {
	switch {
	case a.Filter != nil:
		var in []scored
		for _, m := range ms {
			ok, _, err := s.eval(a.Filter, m.d)
			if err != nil {
				return nil, err
			}
			if ok {
				in = append(in, m)
			}
		}
		sub, err := s.aggregate(a.Aggs, in)
		if err != nil {
			return nil, err
		}
		sub["doc_count"] = len(in)
		return sub, nil
	case a.Max != nil:
		var v any
		best := math.Inf(-1)
		for _, m := range ms {
			if x, ok := m.d.source[a.Max.Field].(float64); ok && x > best {
				best, v = x, x
			}
		}
		return map[string]any{"value": v}, nil
	case a.Range != nil:
		buckets := []any{}
		for _, r := range a.Range.Ranges {
			n := 0
			for _, m := range ms {
				v, ok := m.d.source[a.Range.Field].(float64)
				if ok && (r.From == nil || v >= *r.From) && (r.To == nil || v < *r.To) {
					n++
				}
			}
			b := map[string]any{"key": r.Key, "doc_count": n}
			if r.From != nil {
				b["from"] = *r.From
			}
			if r.To != nil {
				b["to"] = *r.To
			}
			buckets = append(buckets, b)
		}
		return map[string]any{"buckets": buckets}, nil
	case a.Terms != nil:
		return s.termsAgg(name, a, ms)
	}
	return nil, errorf(400, "parsing_exception", "fake: aggregation [%s] is not modelled", name)
}

// orderKey is one criterion of a terms aggregation's order.
type orderKey struct {
	path string
	desc bool
}

func parseOrder(raw json.RawMessage) ([]orderKey, *apiError) {
	if len(raw) == 0 {
		return []orderKey{{"_count", true}, {"_key", false}}, nil
	}
	var list []map[string]string
	if raw[0] == '{' {
		var one map[string]string
		if err := decode(raw, &one); err != nil {
			return nil, err
		}
		list = []map[string]string{one}
	} else if err := decode(raw, &list); err != nil {
		return nil, err
	}
	var out []orderKey
	for _, o := range list {
		if len(o) != 1 {
			return nil, errorf(400, "parsing_exception", "each [order] entry names one path")
		}
		for p, dir := range o {
			if dir != "asc" && dir != "desc" {
				return nil, errorf(400, "parsing_exception", "Unknown terms order direction [%s]", dir)
			}
			out = append(out, orderKey{p, dir == "desc"})
		}
	}
	// Elasticsearch breaks remaining ties by key, ascending.
	if out[len(out)-1].path != "_key" {
		out = append(out, orderKey{"_key", false})
	}
	return out, nil
}

func (s *searcher) termsAgg(name string, a *aggDef, ms []scored) (map[string]any, *apiError) {
	order, err := parseOrder(a.Terms.Order)
	if err != nil {
		return nil, err
	}
	size := 10
	if a.Terms.Size != nil {
		size = *a.Terms.Size
	}
	if size < 1 || size > 65536 {
		return nil, errorf(400, "illegal_argument_exception", "[size] must be between 1 and 65536 in [%s]", name)
	}
	subs, err := orderedAggs(a.Aggs)
	if err != nil {
		return nil, err
	}
	defs := make([]*aggDef, len(subs))
	for i, sa := range subs {
		if defs[i], err = parseAgg(sa.name, sa.raw); err != nil {
			return nil, err
		}
	}
	groups := map[string]*bucket{}
	var keys []string
	for _, m := range ms {
		var vals []any
		switch v := m.d.source[a.Terms.Field].(type) {
		case nil:
		case []any:
			vals = v
		default:
			vals = []any{v}
		}
		for _, v := range vals {
			k := fmt.Sprint(v)
			b, ok := groups[k]
			if !ok {
				b = &bucket{key: v}
				groups[k] = b
				keys = append(keys, k)
			}
			b.count++
			b.ms = append(b.ms, m)
		}
	}
	buckets := make([]*bucket, 0, len(keys))
	for _, k := range keys {
		b := groups[k]
		b.sub = map[string]any{}
		for i, sa := range subs {
			if defs[i].pipeline() {
				continue
			}
			res, err := s.metricOrBucket(sa.name, defs[i], b.ms)
			if err != nil {
				return nil, err
			}
			b.sub[sa.name] = res
		}
		buckets = append(buckets, b)
	}
	var sortErr *apiError
	sort.SliceStable(buckets, func(i, j int) bool {
		for _, o := range order {
			c, err := compareBuckets(buckets[i], buckets[j], o.path)
			if err != nil {
				sortErr = err
				return false
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if sortErr != nil {
		return nil, sortErr
	}
	other := 0
	if len(buckets) > size {
		for _, b := range buckets[size:] {
			other += b.count
		}
		buckets = buckets[:size]
	}
	for i, sa := range subs {
		d := defs[i]
		switch {
		case d.BucketSelector != nil:
			kept := buckets[:0:0]
			for _, b := range buckets {
				ok, err := selectBucket(sa.name, d, b)
				if err != nil {
					return nil, err
				}
				if ok {
					kept = append(kept, b)
				}
			}
			buckets = kept
		case d.BucketSort != nil:
			if len(bytes.TrimSpace(d.BucketSort.Sort)) > 0 {
				return nil, errorf(400, "parsing_exception", "fake: bucket_sort [%s] with sort is not modelled (only from and size)", sa.name)
			}
			from := min(max(d.BucketSort.From, 0), len(buckets))
			end := len(buckets)
			if d.BucketSort.Size != nil {
				end = min(from+*d.BucketSort.Size, len(buckets))
			}
			buckets = buckets[from:end]
		}
	}
	out := make([]any, 0, len(buckets))
	for _, b := range buckets {
		m := map[string]any{"key": b.key, "doc_count": b.count}
		for k, v := range b.sub {
			m[k] = v
		}
		out = append(out, m)
	}
	return map[string]any{"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": out}, nil
}

// bucketValue resolves a buckets path or an order path in a bucket: _key,
// _count, AGG (a single-bucket aggregation's doc count or a metric's
// value) or AGG>_count.
func bucketValue(b *bucket, path string) (any, *apiError) {
	switch path {
	case "_key":
		return b.key, nil
	case "_count":
		return float64(b.count), nil
	}
	name, rest, _ := strings.Cut(path, ">")
	sub, ok := b.sub[name].(map[string]any)
	if !ok {
		return nil, errorf(400, "aggregation_execution_exception", "Invalid aggregation order path [%s]: no aggregation [%s]", path, name)
	}
	if n, ok := sub["doc_count"]; ok && (rest == "" || rest == "_count") {
		return float64(n.(int)), nil
	}
	if v, ok := sub["value"]; ok && rest == "" {
		if v == nil {
			return math.Inf(-1), nil
		}
		return v, nil
	}
	return nil, errorf(400, "aggregation_execution_exception", "fake: path [%s] is not modelled", path)
}

func compareBuckets(x, y *bucket, path string) (int, *apiError) {
	a, err := bucketValue(x, path)
	if err != nil {
		return 0, err
	}
	b, err := bucketValue(y, path)
	if err != nil {
		return 0, err
	}
	af, aNum := a.(float64)
	bf, bNum := b.(float64)
	if aNum && bNum {
		return cmpFloat(af, bf), nil
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)), nil
}

// scriptCond is one comparison of the Painless subset the fake runs:
// params.NAME OP NUMBER, joined with &&.
var scriptCond = regexp.MustCompile(`^\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$`)

func selectBucket(name string, d *aggDef, b *bucket) (bool, *apiError) {
	params := map[string]float64{}
	for v, path := range d.BucketSelector.BucketsPath {
		x, err := bucketValue(b, path)
		if err != nil {
			return false, err
		}
		f, ok := x.(float64)
		if !ok {
			return false, errorf(400, "aggregation_execution_exception", "buckets_path must reference either a number value or a single value numeric metric aggregation, got: [%T] at aggregation [%s]", x, name)
		}
		params[v] = f
	}
	for _, cond := range strings.Split(d.BucketSelector.Script, "&&") {
		m := scriptCond.FindStringSubmatch(cond)
		if m == nil {
			return false, errorf(400, "script_exception", "fake: bucket_selector [%s]: only params.NAME OP NUMBER joined by && is modelled, not %q", name, cond)
		}
		v, ok := params[m[1]]
		if !ok {
			return false, errorf(400, "script_exception", "bucket_selector [%s]: params.%s is not in buckets_path", name, m[1])
		}
		n, _ := strconv.ParseFloat(m[3], 64)
		var hold bool
		switch m[2] {
		case "==":
			hold = v == n
		case "!=":
			hold = v != n
		case ">=":
			hold = v >= n
		case "<=":
			hold = v <= n
		case ">":
			hold = v > n
		case "<":
			hold = v < n
		}
		if !hold {
			return false, nil
		}
	}
	return true, nil
}
