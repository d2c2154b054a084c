// Package estest is a loopback fake of the slice of Elasticsearch 8's REST
// API that the search/elastic adapter uses, for CI machines where no
// Elasticsearch can be installed. It answers with Elasticsearch 8's
// documented response shapes, including the X-Elastic-Product header that
// the official client checks, and can play the failures an adapter must
// survive: an unreachable cluster, 429/503 answers and bulk items rejected
// with 429 (backpressure).
//
// What it checks: the requests' paths, methods and bodies (an unknown query
// type, field, aggregation or bulk action is refused with a 400, so a change
// in what the adapter sends fails the tests instead of passing silently);
// index templates, aliases (atomic _aliases), strict mappings, external
// versions and version conflicts (including deletes' tombstones); the
// boolean logic of bool/dis_max/match/match_phrase_prefix/term/range;
// fuzziness AUTO:low,high (Damerau–Levenshtein); terms aggregations with
// order and filter/max sub-aggregations, the bucket_selector (scripts of the
// form params.NAME OP NUMBER joined by &&) and bucket_sort pipelines run in
// the order given, range aggregations; exists queries; bulk updates with
// doc_as_upsert; _delete_by_query; data streams (create-only writes with
// @timestamp, one backing index: no rollover); highlighting with <mark> and
// the html encoder.
//
// What it cannot check, by design: scoring (a clause scores its boost when it
// matches, no BM25, no term or document frequencies), analysis (its own
// approximation of the standard tokenizer and of the lowercase, asciifolding,
// stop, possessive_english, minimal_english and single-word synonym_graph
// filters: close, not Lucene's), fragmenting of long highlighted text
// (sentences instead of Lucene's break iterator), near-real-time refresh
// (every write is visible at once), shards, replicas and cluster state.
// Those are verified only against a real cluster (ELASTICSEARCH_URL);
// docs/search.md records what was run against what.
package estest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake is a loopback Elasticsearch. Its methods are safe for concurrent use.
type Fake struct {
	srv *httptest.Server

	mu          sync.Mutex
	templates   map[string]*template
	indexes     map[string]*index
	aliases     map[string]map[string]bool // alias → index → is write index
	dataStreams map[string]string          // data stream → its backing index
	synonyms    map[string][]synonymRule   // set → rules
	unreachable bool
	failNext    []int // statuses to answer the next requests with
	rejectItems int   // bulk items to reject with 429
	requests    int
}

// New starts a fake on a loopback port, stopped when t ends.
func New(t testing.TB) *Fake {
	f := &Fake{
		templates:   map[string]*template{},
		indexes:     map[string]*index{},
		aliases:     map[string]map[string]bool{},
		dataStreams: map[string]string{},
		synonyms:    map[string][]synonymRule{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's address, for elastic.Config.URL.
func (f *Fake) URL() string { return f.srv.URL }

// SetUnreachable makes the fake drop every connection without an answer
// (as a cluster that is down does), or answer again.
func (f *Fake) SetUnreachable(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unreachable = down
}

// FailNext answers the next len(statuses) requests with these statuses
// (429, 503, …) and Elasticsearch's error body for them.
func (f *Fake) FailNext(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = append(f.failNext, statuses...)
}

// RejectBulkItems rejects the next n bulk items with 429
// es_rejected_execution_exception while the rest of their request succeeds
// (a bulk partial failure).
func (f *Fake) RejectBulkItems(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejectItems += n
}

// Indexes lists the concrete indexes whose names start with prefix.
func (f *Fake) Indexes(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for name := range f.indexes {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DocVersion is the version of document id behind target (an index or an
// alias), or of its delete; 0 if the fake has never seen it.
func (f *Fake) DocVersion(target, id string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	idxs, err := f.resolve(target, true)
	if err != nil {
		return 0
	}
	if d, ok := idxs[0].docs[id]; ok {
		return d.version
	}
	return idxs[0].tombstones[id]
}

// Requests is how many requests the fake has been sent.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// apiError is an answer with Elasticsearch's error body.
type apiError struct {
	status int
	typ    string
	reason string
}

func (e *apiError) Error() string { return e.typ + ": " + e.reason }

func errorf(status int, typ, format string, args ...any) *apiError {
	return &apiError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

func errorBody(e *apiError) map[string]any {
	if e.typ == "" {
		return map[string]any{"error": e.reason, "status": e.status}
	}
	cause := map[string]any{"type": e.typ, "reason": e.reason}
	return map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": e.typ, "reason": e.reason},
		"status": e.status,
	}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	if f.unreachable {
		f.mu.Unlock()
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	var fail int
	if len(f.failNext) > 0 {
		fail, f.failNext = f.failNext[0], f.failNext[1:]
	}
	f.mu.Unlock()

	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	if fail != 0 {
		typ := "es_rejected_execution_exception"
		if fail != http.StatusTooManyRequests {
			typ = "cluster_block_exception"
		}
		writeJSON(w, fail, errorBody(errorf(fail, typ, "fake: injected failure %d", fail)))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, 400, errorBody(errorf(400, "parse_exception", "read body: %v", err)))
		return
	}
	status, res, aerr := f.route(r.Method, r.URL.Path, r.URL.Query().Get("size"), body)
	if aerr != nil {
		writeJSON(w, aerr.status, errorBody(aerr))
		return
	}
	writeJSON(w, status, res)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// route dispatches one request.
func (f *Fake) route(method, p, size string, body []byte) (int, any, *apiError) {
	parts := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case p == "/" && method == http.MethodGet:
		return 200, map[string]any{"name": "estest", "cluster_name": "fake", "version": map[string]any{"number": "8.19.0", "build_flavor": "default"}, "tagline": "You Know, for Search"}, nil
	case parts[0] == "_synonyms" && len(parts) == 2:
		return f.synonymsAPI(method, parts[1], size, body)
	case parts[0] == "_index_template" && len(parts) == 2 && method == http.MethodPut:
		return f.putTemplate(parts[1], body)
	case parts[0] == "_data_stream" && len(parts) == 2:
		return f.dataStreamAPI(method, parts[1])
	case parts[0] == "_alias" && len(parts) == 2 && method == http.MethodGet:
		return f.getAlias(parts[1])
	case parts[0] == "_aliases" && len(parts) == 1 && method == http.MethodPost:
		return f.updateAliases(body)
	case parts[0] == "_reindex" && len(parts) == 1 && method == http.MethodPost:
		return f.reindex(body)
	case parts[0] == "_bulk" && len(parts) == 1 && method == http.MethodPost:
		return f.bulk("", body)
	case len(parts) == 1 && method == http.MethodPut && !strings.HasPrefix(parts[0], "_"):
		return f.createIndex(parts[0], body)
	case len(parts) == 1 && method == http.MethodDelete && !strings.HasPrefix(parts[0], "_"):
		return f.deleteIndex(parts[0])
	case len(parts) == 2 && parts[1] == "_bulk" && method == http.MethodPost:
		return f.bulk(parts[0], body)
	case len(parts) == 2 && parts[1] == "_delete_by_query" && method == http.MethodPost:
		return f.deleteByQuery(parts[0], body)
	case len(parts) == 2 && parts[1] == "_count" && (method == http.MethodGet || method == http.MethodPost):
		return f.count(parts[0])
	case len(parts) == 2 && parts[1] == "_search" && (method == http.MethodGet || method == http.MethodPost):
		return f.search(parts[0], body)
	case len(parts) == 2 && parts[1] == "_mapping" && method == http.MethodGet:
		return f.getMapping(parts[0])
	case len(parts) == 2 && parts[1] == "_settings" && method == http.MethodPut:
		return f.putSettings(parts[0], body)
	case len(parts) == 2 && parts[1] == "_refresh" && method == http.MethodPost:
		if _, err := f.resolve(parts[0], false); err != nil {
			return 0, nil, err
		}
		return 200, map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}}, nil
	}
	return 0, nil, errorf(400, "illegal_argument_exception", "fake: no handler for %s %s", method, p)
}

// decode parses a JSON body strictly enough: it must be an object.
func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(400, "parse_exception", "request body is not valid JSON: %v", err)
	}
	return nil
}

// --- synonyms ---

// synonymRule is one rule of a synonyms set.
type synonymRule struct {
	ID       string `json:"id"`
	Synonyms string `json:"synonyms"`
}

func (f *Fake) synonymsAPI(method, set, size string, body []byte) (int, any, *apiError) {
	switch method {
	case http.MethodGet:
		rules, ok := f.synonyms[set]
		if !ok {
			return 0, nil, errorf(404, "resource_not_found_exception", "synonyms set [%s] not found", set)
		}
		n := 10 // Elasticsearch's default page of rules
		if size != "" {
			n, _ = strconv.Atoi(size)
		}
		return 200, map[string]any{"count": len(rules), "synonyms_set": rules[:min(n, len(rules))]}, nil
	case http.MethodPut:
		var req struct {
			Set []synonymRule `json:"synonyms_set"`
		}
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		if req.Set == nil {
			return 0, nil, errorf(400, "action_request_validation_exception", "Validation Failed: 1: synonyms_set is required;")
		}
		for _, r := range req.Set {
			if _, err := parseRule(r.Synonyms); err != nil {
				return 0, nil, errorf(400, "illegal_argument_exception", "synonym rule [%s]: %v", r.Synonyms, err)
			}
		}
		_, existed := f.synonyms[set]
		f.synonyms[set] = req.Set
		result := "created"
		if existed {
			result = "updated"
		}
		// Real clusters reload the search analyzers of the indexes that use
		// the set here; the fake reads the set at every search.
		return 200, map[string]any{"result": result, "reload_analyzers_details": map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}, "reload_details": []any{}}}, nil
	case http.MethodDelete:
		if _, ok := f.synonyms[set]; !ok {
			return 0, nil, errorf(404, "resource_not_found_exception", "synonyms set [%s] not found", set)
		}
		delete(f.synonyms, set)
		return 200, map[string]any{"acknowledged": true}, nil
	}
	return 0, nil, errorf(405, "illegal_argument_exception", "method %s not allowed on _synonyms", method)
}

// --- templates and indexes ---

func (f *Fake) putTemplate(name string, body []byte) (int, any, *apiError) {
	var req struct {
		Patterns []string `json:"index_patterns"`
		Priority int      `json:"priority"`
		Template struct {
			Settings json.RawMessage `json:"settings"`
			Mappings json.RawMessage `json:"mappings"`
		} `json:"template"`
		Meta       map[string]any  `json:"_meta"`
		DataStream *map[string]any `json:"data_stream"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Patterns) == 0 {
		return 0, nil, errorf(400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
	}
	t, err := parseTemplate(req.Patterns, req.Template.Settings, req.Template.Mappings)
	if err != nil {
		return 0, nil, err
	}
	if req.DataStream != nil {
		if !t.hasTimestamp() {
			return 0, nil, errorf(400, "illegal_argument_exception", "data stream timestamp field [@timestamp] does not exist")
		}
		t.dataStream = true
	}
	f.templates[name] = t
	return 200, map[string]any{"acknowledged": true}, nil
}

// templateFor is the template whose patterns match name, or nil.
func (f *Fake) templateFor(name string) *template {
	var tpl *template
	for _, t := range f.templates {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok {
				tpl = t
			}
		}
	}
	return tpl
}

// dataStreamAPI creates (PUT) or describes (GET) a data stream. The fake
// gives each one backing index, the write index of the stream's name;
// rollover is not modelled.
func (f *Fake) dataStreamAPI(method, name string) (int, any, *apiError) {
	switch method {
	case http.MethodPut:
		if _, ok := f.dataStreams[name]; ok {
			return 0, nil, errorf(400, "resource_already_exists_exception", "data_stream [%s] already exists", name)
		}
		if _, ok := f.indexes[name]; ok {
			return 0, nil, errorf(400, "illegal_argument_exception", "data stream [%s] conflicts with index", name)
		}
		tpl := f.templateFor(name)
		if tpl == nil || !tpl.dataStream {
			return 0, nil, errorf(400, "illegal_argument_exception", "no matching index template found for data stream [%s]", name)
		}
		backing := fmt.Sprintf(".ds-%s-%s-000001", name, time.Now().UTC().Format("2006.01.02"))
		f.indexes[backing] = &index{name: backing, tpl: tpl, docs: map[string]*doc{}, tombstones: map[string]int64{}}
		f.aliases[name] = map[string]bool{backing: true}
		f.dataStreams[name] = backing
		return 200, map[string]any{"acknowledged": true}, nil
	case http.MethodGet:
		backing, ok := f.dataStreams[name]
		if !ok {
			return 0, nil, errorf(404, "index_not_found_exception", "no such index [%s]", name)
		}
		return 200, map[string]any{"data_streams": []any{map[string]any{
			"name": name, "timestamp_field": map[string]any{"name": "@timestamp"},
			"indices": []any{map[string]any{"index_name": backing}}, "generation": 1, "status": "GREEN",
		}}}, nil
	}
	return 0, nil, errorf(405, "illegal_argument_exception", "method %s not allowed on _data_stream", method)
}

// DataStreamDocs is how many documents data stream name holds.
func (f *Fake) DataStreamDocs(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if idx, ok := f.indexes[f.dataStreams[name]]; ok {
		return len(idx.docs)
	}
	return 0
}

// isDataStream reports whether target names a data stream.
func (f *Fake) isDataStream(target string) bool {
	_, ok := f.dataStreams[target]
	return ok
}

func (f *Fake) createIndex(name string, body []byte) (int, any, *apiError) {
	if _, ok := f.indexes[name]; ok {
		return 0, nil, errorf(400, "resource_already_exists_exception", "index [%s/fake] already exists", name)
	}
	if _, ok := f.aliases[name]; ok {
		return 0, nil, errorf(400, "invalid_index_name_exception", "Invalid index name [%s], already exists as alias", name)
	}
	var tpl *template
	for _, t := range f.templates {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok {
				tpl = t
			}
		}
	}
	if tpl == nil {
		// The adapter always creates indexes from its template; an index
		// without one would get dynamic mappings, which the fake does not
		// model.
		return 0, nil, errorf(400, "illegal_argument_exception", "fake: index [%s] matches no index template", name)
	}
	var meta map[string]any
	if len(body) > 0 {
		var req map[string]json.RawMessage
		if err := decode(body, &req); err != nil {
			return 0, nil, err
		}
		for k := range req {
			if k != "settings" && k != "mappings" && k != "aliases" {
				return 0, nil, errorf(400, "parse_exception", "unknown key [%s] for create index", k)
			}
		}
		var m struct {
			Meta map[string]any `json:"_meta"`
		}
		if len(req["mappings"]) > 0 {
			if err := decode(req["mappings"], &m); err != nil {
				return 0, nil, err
			}
		}
		meta = m.Meta
	}
	for set := range tpl.synonymSets() {
		if _, ok := f.synonyms[set]; !ok {
			return 0, nil, errorf(400, "resource_not_found_exception", "synonyms set [%s] not found", set)
		}
	}
	f.indexes[name] = &index{name: name, tpl: tpl, meta: meta, docs: map[string]*doc{}, tombstones: map[string]int64{}}
	return 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name}, nil
}

func (f *Fake) deleteIndex(name string) (int, any, *apiError) {
	if _, ok := f.indexes[name]; !ok {
		return 0, nil, errorf(404, "index_not_found_exception", "no such index [%s]", name)
	}
	delete(f.indexes, name)
	for a, m := range f.aliases {
		delete(m, name)
		if len(m) == 0 {
			delete(f.aliases, a)
		}
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

func (f *Fake) getMapping(target string) (int, any, *apiError) {
	idxs, err := f.resolve(target, false)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{}
	for _, idx := range idxs {
		m := map[string]any{}
		if idx.meta != nil {
			m["_meta"] = idx.meta
		}
		if idx.tpl.strict {
			m["dynamic"] = "strict"
		}
		out[idx.name] = map[string]any{"mappings": m}
	}
	return 200, out, nil
}

// SetMappingMeta replaces the mapping _meta of the indexes behind target,
// as if an older version had built them.
func (f *Fake) SetMappingMeta(target string, meta map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	idxs, _ := f.resolve(target, false)
	for _, idx := range idxs {
		idx.meta = meta
	}
}

func (f *Fake) putSettings(name string, body []byte) (int, any, *apiError) {
	if _, err := f.resolve(name, false); err != nil {
		return 0, nil, err
	}
	var req map[string]any
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

func (f *Fake) getAlias(alias string) (int, any, *apiError) {
	m, ok := f.aliases[alias]
	if !ok {
		// Elasticsearch answers a missing alias with this body, not the
		// usual error object.
		return 0, nil, &apiError{status: 404, typ: "", reason: fmt.Sprintf("alias [%s] missing", alias)}
	}
	out := map[string]any{}
	for idx, write := range m {
		a := map[string]any{}
		if write {
			a["is_write_index"] = true
		}
		out[idx] = map[string]any{"aliases": map[string]any{alias: a}}
	}
	return 200, out, nil
}

func (f *Fake) updateAliases(body []byte) (int, any, *apiError) {
	var req struct {
		Actions []map[string]struct {
			Index        string `json:"index"`
			Alias        string `json:"alias"`
			IsWriteIndex bool   `json:"is_write_index"`
		} `json:"actions"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	// Apply to a copy: the whole call succeeds or nothing changes.
	next := make(map[string]map[string]bool, len(f.aliases))
	for a, m := range f.aliases {
		next[a] = make(map[string]bool, len(m))
		for i, w := range m {
			next[a][i] = w
		}
	}
	for _, action := range req.Actions {
		for kind, a := range action {
			if _, ok := f.indexes[a.Index]; !ok {
				return 0, nil, errorf(404, "index_not_found_exception", "no such index [%s]", a.Index)
			}
			switch kind {
			case "add":
				if next[a.Alias] == nil {
					next[a.Alias] = map[string]bool{}
				}
				next[a.Alias][a.Index] = a.IsWriteIndex
			case "remove":
				if !next[a.Alias][a.Index] && !has(next[a.Alias], a.Index) {
					return 0, nil, errorf(404, "aliases_not_found_exception", "aliases [%s] missing", a.Alias)
				}
				delete(next[a.Alias], a.Index)
				if len(next[a.Alias]) == 0 {
					delete(next, a.Alias)
				}
			default:
				return 0, nil, errorf(400, "parse_exception", "fake: unknown alias action [%s]", kind)
			}
		}
	}
	f.aliases = next
	return 200, map[string]any{"acknowledged": true, "errors": false}, nil
}

func has(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// resolve finds the indexes behind a name: an index, or an alias (for
// writes, its one write index).
func (f *Fake) resolve(name string, write bool) ([]*index, *apiError) {
	if idx, ok := f.indexes[name]; ok {
		return []*index{idx}, nil
	}
	m, ok := f.aliases[name]
	if !ok {
		return nil, errorf(404, "index_not_found_exception", "no such index [%s]", name)
	}
	var out []*index
	for i, w := range m {
		if !write || w || len(m) == 1 {
			out = append(out, f.indexes[i])
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	if write && len(out) != 1 {
		return nil, errorf(400, "illegal_argument_exception", "no write index is defined for alias [%s]", name)
	}
	return out, nil
}

// --- documents ---

// index is one concrete index.
type index struct {
	name       string
	tpl        *template
	meta       map[string]any // the mapping's _meta
	docs       map[string]*doc
	tombstones map[string]int64 // deleted id → version
}

// doc is one stored document.
type doc struct {
	id      string
	version int64
	source  map[string]any
	tokens  map[string][]token // analysed text fields, by field
}

func (f *Fake) bulk(target string, body []byte) (int, any, *apiError) {
	start := time.Now()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var items []any
	hasErrors := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var meta map[string]struct {
			Index           string `json:"_index"`
			ID              string `json:"_id"`
			Version         *int64 `json:"version"`
			VersionType     string `json:"version_type"`
			RetryOnConflict *int   `json:"retry_on_conflict"`
		}
		if err := json.Unmarshal(line, &meta); err != nil || len(meta) != 1 {
			return 0, nil, errorf(400, "illegal_argument_exception", "Malformed action/metadata line: %s", line)
		}
		for action, m := range meta {
			name := m.Index
			if name == "" {
				name = target
			}
			if action == "update" {
				if !sc.Scan() {
					return 0, nil, errorf(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
				}
				status, res := f.bulkUpdate(name, m.ID, sc.Bytes())
				if status >= 300 {
					hasErrors = true
				}
				items = append(items, map[string]any{action: res})
				continue
			}
			var src map[string]any
			if action == "index" || action == "create" {
				if !sc.Scan() {
					return 0, nil, errorf(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
				}
				if err := json.Unmarshal(sc.Bytes(), &src); err != nil {
					return 0, nil, errorf(400, "parse_exception", "source of %s is not a JSON object", m.ID)
				}
			} else if action != "delete" {
				return 0, nil, errorf(400, "illegal_argument_exception", "Malformed action/metadata line, expected one of [create, delete, index, update] but found [%s]", action)
			}
			status, res := f.bulkItem(action, name, m.ID, m.Version, m.VersionType, src)
			if status >= 300 {
				hasErrors = true
			}
			items = append(items, map[string]any{action: res})
		}
	}
	return 200, map[string]any{"took": time.Since(start).Milliseconds(), "errors": hasErrors, "items": items}, nil
}

// bulkItem applies one bulk action and returns its status and item answer.
func (f *Fake) bulkItem(action, target, id string, version *int64, versionType string, src map[string]any) (int, map[string]any) {
	res := map[string]any{"_index": target, "_id": id}
	fail := func(e *apiError) (int, map[string]any) {
		res["status"] = e.status
		res["error"] = map[string]any{"type": e.typ, "reason": e.reason, "index": target}
		return e.status, res
	}
	if f.rejectItems > 0 {
		f.rejectItems--
		return fail(errorf(429, "es_rejected_execution_exception", "rejected execution of coordinating operation [fake: injected]"))
	}
	if f.isDataStream(target) {
		if action != "create" {
			return fail(errorf(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams"))
		}
		if _, ok := src["@timestamp"].(string); !ok {
			return fail(errorf(400, "document_parsing_exception", "data stream timestamp field [@timestamp] is missing"))
		}
	}
	idxs, err := f.resolve(target, true)
	if err != nil {
		return fail(err)
	}
	idx := idxs[0]
	res["_index"] = idx.name
	if id == "" {
		return fail(errorf(400, "illegal_argument_exception", "fake: the adapter always sets _id"))
	}
	external := versionType == "external" || versionType == "external_gte"
	if version != nil && !external {
		return fail(errorf(400, "action_request_validation_exception", "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control;"))
	}
	if external && (version == nil || *version < 0) {
		return fail(errorf(400, "action_request_validation_exception", "Validation Failed: 1: illegal version value [%v] for version type [%s];", version, versionType))
	}
	current, exists := int64(0), false
	if d, ok := idx.docs[id]; ok {
		current, exists = d.version, true
	} else if v, ok := idx.tombstones[id]; ok {
		current = v
	}
	if external {
		v := *version
		stale := v < current || (versionType == "external" && v == current && (exists || idx.tombstones[id] != 0))
		if stale {
			return fail(errorf(409, "version_conflict_engine_exception",
				"[%s]: version conflict, current version [%d] is higher or equal to the one provided [%d]", id, current, v))
		}
	}
	next := current + 1
	if external {
		next = *version
	}
	switch action {
	case "delete":
		if !exists {
			if external {
				idx.tombstones[id] = next
			}
			res["status"], res["result"], res["_version"] = 404, "not_found", next
			return 404, res
		}
		delete(idx.docs, id)
		idx.tombstones[id] = next
		res["status"], res["result"], res["_version"] = 200, "deleted", next
		return 200, res
	default:
		if action == "create" && exists {
			return fail(errorf(409, "version_conflict_engine_exception", "[%s]: version conflict, document already exists", id))
		}
		if err := idx.tpl.checkSource(src); err != nil {
			return fail(err)
		}
		idx.docs[id] = &doc{id: id, version: next, source: src, tokens: idx.tpl.analyzeDoc(src)}
		delete(idx.tombstones, id)
		result, status := "created", 201
		if exists {
			result, status = "updated", 200
		}
		res["status"], res["result"], res["_version"] = status, result, next
		res["_shards"] = map[string]any{"total": 1, "successful": 1, "failed": 0}
		return status, res
	}
}

// bulkUpdate applies a bulk update of the form the adapter sends, a
// partial document merged into the stored one's top-level fields, with
// doc_as_upsert (scripts are not modelled). The fake applies writes one at
// a time, so it never has to retry on a conflict.
func (f *Fake) bulkUpdate(target, id string, body []byte) (int, map[string]any) {
	res := map[string]any{"_index": target, "_id": id}
	fail := func(e *apiError) (int, map[string]any) {
		res["status"] = e.status
		res["error"] = map[string]any{"type": e.typ, "reason": e.reason, "index": target}
		return e.status, res
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errorf(400, "parse_exception", "update of %s is not a JSON object", id))
	}
	for k := range req {
		if k != "doc" && k != "doc_as_upsert" {
			return fail(errorf(400, "x_content_parse_exception", "fake: [update] field [%s] is not modelled", k))
		}
	}
	var partial map[string]any
	var upsert bool
	if err := json.Unmarshal(req["doc"], &partial); err != nil || partial == nil {
		return fail(errorf(400, "action_request_validation_exception", "Validation Failed: 1: script or doc is missing;"))
	}
	if raw, ok := req["doc_as_upsert"]; ok {
		if err := json.Unmarshal(raw, &upsert); err != nil {
			return fail(errorf(400, "x_content_parse_exception", "[doc_as_upsert] must be a boolean"))
		}
	}
	if f.rejectItems > 0 {
		f.rejectItems--
		return fail(errorf(429, "es_rejected_execution_exception", "rejected execution of coordinating operation [fake: injected]"))
	}
	if f.isDataStream(target) {
		return fail(errorf(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams"))
	}
	idxs, err := f.resolve(target, true)
	if err != nil {
		return fail(err)
	}
	idx := idxs[0]
	res["_index"] = idx.name
	merged := map[string]any{}
	current, exists := idx.docs[id]
	switch {
	case exists:
		for k, v := range current.source {
			merged[k] = v
		}
	case !upsert:
		return fail(errorf(404, "document_missing_exception", "[%s]: document missing", id))
	}
	for k, v := range partial {
		merged[k] = v
	}
	if err := idx.tpl.checkSource(merged); err != nil {
		return fail(err)
	}
	next := idx.tombstones[id] + 1
	if exists {
		next = current.version + 1
	}
	idx.docs[id] = &doc{id: id, version: next, source: merged, tokens: idx.tpl.analyzeDoc(merged)}
	delete(idx.tombstones, id)
	result, status := "created", 201
	if exists {
		result, status = "updated", 200
	}
	res["status"], res["result"], res["_version"] = status, result, next
	res["_shards"] = map[string]any{"total": 1, "successful": 1, "failed": 0}
	return status, res
}

// deleteByQuery deletes the documents a query matches.
func (f *Fake) deleteByQuery(target string, body []byte) (int, any, *apiError) {
	idxs, err := f.resolve(target, false)
	if err != nil {
		return 0, nil, err
	}
	var req map[string]any
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	for k := range req {
		if k != "query" {
			return 0, nil, errorf(400, "parsing_exception", "fake: [%s] in _delete_by_query is not modelled", k)
		}
	}
	if req["query"] == nil {
		return 0, nil, errorf(400, "action_request_validation_exception", "Validation Failed: 1: query is missing;")
	}
	deleted := 0
	for _, idx := range idxs {
		s := &searcher{f: f, tpl: idx.tpl}
		for id, d := range idx.docs {
			ok, _, err := s.eval(req["query"], d)
			if err != nil {
				return 0, nil, err
			}
			if ok {
				delete(idx.docs, id)
				idx.tombstones[id] = d.version + 1
				deleted++
			}
		}
	}
	return 200, map[string]any{"took": 1, "timed_out": false, "total": deleted, "deleted": deleted, "batches": 1,
		"version_conflicts": 0, "noops": 0, "failures": []any{}}, nil
}

// reindex copies documents from one index to another, keeping their
// versions with dest.version_type external (only newer ones overwrite).
func (f *Fake) reindex(body []byte) (int, any, *apiError) {
	var req struct {
		Conflicts string `json:"conflicts"`
		Source    struct {
			Index string `json:"index"`
		} `json:"source"`
		Dest struct {
			Index       string `json:"index"`
			VersionType string `json:"version_type"`
		} `json:"dest"`
	}
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.Dest.VersionType != "external" {
		return 0, nil, errorf(400, "illegal_argument_exception", "fake: only dest.version_type external is modelled")
	}
	src, ok := f.indexes[req.Source.Index]
	if !ok {
		return 0, nil, errorf(404, "index_not_found_exception", "no such index [%s]", req.Source.Index)
	}
	ids := make([]string, 0, len(src.docs))
	for id := range src.docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	created, updated, conflicts := 0, 0, 0
	failures := []any{}
	for _, id := range ids {
		d := src.docs[id]
		v := d.version
		status, res := f.bulkItem("index", req.Dest.Index, id, &v, "external", d.source)
		switch {
		case status == 201:
			created++
		case status < 300:
			updated++
		case status == 409 && req.Conflicts == "proceed":
			conflicts++
		default:
			failures = append(failures, res)
		}
	}
	return 200, map[string]any{
		"took": 1, "timed_out": false, "total": len(ids), "created": created, "updated": updated,
		"deleted": 0, "batches": 1, "version_conflicts": conflicts, "noops": 0, "failures": failures,
	}, nil
}

func (f *Fake) count(target string) (int, any, *apiError) {
	idxs, err := f.resolve(target, false)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, idx := range idxs {
		n += len(idx.docs)
	}
	return 200, map[string]any{"count": n, "_shards": map[string]any{"total": len(idxs), "successful": len(idxs), "skipped": 0, "failed": 0}}, nil
}
