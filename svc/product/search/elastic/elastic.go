// Package elastic is the Elasticsearch adapter of the search port, through
// the official client (github.com/elastic/go-elasticsearch/v8). Every product
// replica shares one cluster, where the catalog lives in one index behind two
// aliases:
//
//   - <name>          the read alias, which searches use;
//   - <name>-write    the write alias, which updates use;
//   - <name>-idx-<n>  the index itself, made from the index template <name>
//     (explicit mappings and analysers, see template), with the
//     query-time synonyms of the synonyms set <name>.
//
// Rebuild (behind `emporium reindex`) fills a new index with the bulk indexer
// and then moves both aliases to it in one atomic _aliases call, so searches
// never see a half-built index, and drops the old index after a grace period.
//
// Updates carry the product's version as an external version, so that a late
// or replayed update never overwrites a newer one. An unreachable or
// overloaded cluster gives errors wrapping search.ErrUnavailable.
//
// It is held to the port's contract suite (search/searchtest) against a real
// cluster when ELASTICSEARCH_URL is set, and in CI against the loopback fake
// in package elastic/estest; docs/search.md says what each one verifies.
package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/emporiumhq/emporium/svc/product/search"
)

var (
	_ search.Index     = (*Index)(nil)
	_ search.Rebuilder = (*Index)(nil)
	_ search.Synonyms  = (*Index)(nil)
)

// DefaultName is the default prefix of the aliases, index template, indexes
// and synonyms set.
const DefaultName = "emporium-products"

// Config says where the cluster is and how the catalog is named in it.
type Config struct {
	// URL is the cluster's address, e.g. https://user:pass@es:9200; several
	// nodes are separated by commas. A user and password in the URL are
	// sent with basic authentication.
	URL string
	// APIKey, when set, authenticates instead of a user and password: the
	// base64 "id:key" of an Elasticsearch API key.
	APIKey string
	// CACert is a PEM bundle of the certificate authorities to trust for
	// https, when the cluster's certificate is not signed by a public one.
	CACert []byte
	// Name prefixes every name the adapter uses (DefaultName when empty):
	// several shops, or tests, can share a cluster with distinct names.
	Name string
	// Grace is how long Rebuild keeps the old index after moving the
	// aliases, for searches already under way on it (default 1 minute).
	Grace time.Duration
	// Log receives the adapter's warnings; nil discards them.
	Log *slog.Logger
	// Transport, when set, replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Index is the catalog in an Elasticsearch cluster. It is safe for
// concurrent use.
type Index struct {
	client *es.Client
	name   string
	grace  time.Duration
	log    *slog.Logger

	// setup runs x.setup until it has worked once (retrySetup).
	setup retrySetup

	// timers are the pending drops of old indexes; Close runs them early.
	mu     sync.Mutex
	drops  map[string]*time.Timer
	closed bool
}

// readAlias and writeAlias are the aliases searches and updates use.
func (x *Index) readAlias() string  { return x.name }
func (x *Index) writeAlias() string { return x.name + "-write" }

// Open connects to the cluster and makes sure the catalog can be used: the
// synonyms set and the index template exist (both are written on every
// Open, so a new version of the template applies to the next index), and if
// no index holds the aliases yet, it creates the first one. It fails on a
// bad configuration or a server that is not Elasticsearch 8. A cluster that
// cannot be reached does not fail Open (the product service's catalog and
// stock must not go down with search): it is logged, and every call answers
// ErrUnavailable and tries the setup again until the cluster is back.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	client, name, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	grace := cfg.Grace
	if grace == 0 {
		grace = time.Minute
	}
	x := &Index{client: client, name: name, grace: grace, log: log, drops: map[string]*time.Timer{}}
	if err := x.ensure(ctx); err != nil {
		if !errors.Is(err, search.ErrUnavailable) {
			return nil, err
		}
		log.Warn("elasticsearch is unreachable; search answers unavailable and index updates wait until it is back", "err", err)
	}
	return x, nil
}

// connect makes the client cfg describes and checks the name.
func connect(cfg Config) (*es.Client, string, error) {
	if cfg.URL == "" {
		return nil, "", errors.New("elasticsearch: URL is required")
	}
	name := cfg.Name
	if name == "" {
		name = DefaultName
	}
	if name != strings.ToLower(name) || strings.ContainsAny(name, ` "*\<|,>/?#:`) {
		return nil, "", fmt.Errorf("elasticsearch: name %q must be a lower-case index name", name)
	}
	esCfg := es.Config{
		APIKey:        cfg.APIKey,
		CACert:        cfg.CACert,
		Transport:     cfg.Transport,
		RetryOnStatus: []int{502, 503, 504, 429},
		MaxRetries:    3,
		RetryBackoff:  func(attempt int) time.Duration { return time.Duration(attempt) * 100 * time.Millisecond },
	}
	for _, raw := range strings.Split(cfg.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, "", fmt.Errorf("elasticsearch: URL %q is not http(s)://host:port", redact(raw))
		}
		if u.User != nil {
			esCfg.Username = u.User.Username()
			esCfg.Password, _ = u.User.Password()
			u.User = nil
		}
		esCfg.Addresses = append(esCfg.Addresses, u.String())
	}
	client, err := es.NewClient(esCfg)
	if err != nil {
		return nil, "", fmt.Errorf("elasticsearch: %w", err)
	}
	return client, name, nil
}

// ensure runs setup until it succeeds once; a failed attempt is repeated at
// most once a second (calls meanwhile get its error).
func (x *Index) ensure(ctx context.Context) error {
	return x.setup.do(func() error {
		if err := x.runSetup(ctx); err != nil {
			return fmt.Errorf("elasticsearch: %w", err)
		}
		return nil
	})
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// runSetup writes the synonyms set (when missing) and the template, and makes
// the first index when no index holds the aliases.
func (x *Index) runSetup(ctx context.Context) error {
	var set struct {
		Count int `json:"count"`
	}
	switch err := x.do(ctx, http.MethodGet, "/_synonyms/"+x.name, nil, nil, &set); {
	case isStatus(err, http.StatusNotFound):
		if err := x.putSynonyms(ctx, nil); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read synonyms set: %w", err)
	}
	if err := x.do(ctx, http.MethodPut, "/_index_template/"+x.name, nil, template(x.name), nil); err != nil {
		return fmt.Errorf("put index template: %w", err)
	}
	current, err := x.aliasTargets(ctx)
	if err != nil {
		return err
	}
	if len(current) > 0 {
		x.checkMapping(ctx)
		return nil
	}
	idx, err := x.createIndex(ctx, false)
	if err != nil {
		return err
	}
	err = x.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": []any{
		map[string]any{"add": map[string]any{"index": idx, "alias": x.readAlias()}},
		map[string]any{"add": map[string]any{"index": idx, "alias": x.writeAlias(), "is_write_index": true}},
	}}, nil)
	if err != nil {
		// Another replica may have won the race to create the first
		// index: use its, drop ours.
		if current, err2 := x.aliasTargets(ctx); err2 == nil && len(current) > 0 {
			_ = x.do(ctx, http.MethodDelete, "/"+idx, nil, nil, nil)
			return nil
		}
		return fmt.Errorf("point aliases at %s: %w", idx, err)
	}
	return nil
}

// checkMapping warns when the index behind the read alias was built with
// another mapping than this version's template: searches keep working on
// the fields both know, and `emporium reindex` brings the new one in.
func (x *Index) checkMapping(ctx context.Context) {
	var res map[string]struct {
		Mappings struct {
			Meta map[string]any `json:"_meta"`
		} `json:"mappings"`
	}
	if err := x.do(ctx, http.MethodGet, "/"+x.readAlias()+"/_mapping", nil, nil, &res); err != nil {
		x.log.Warn("could not read the search index's mapping", "err", err)
		return
	}
	for idx, m := range res {
		if got, _ := m.Mappings.Meta["mapping"].(string); got != mappingVersion {
			x.log.Warn("the search index was built with another mapping; run `emporium reindex`",
				"index", idx, "built_with", got, "current", mappingVersion)
		}
	}
}

// aliasTargets lists the indexes the read alias points at (normally one).
func (x *Index) aliasTargets(ctx context.Context) ([]string, error) {
	var res map[string]json.RawMessage
	err := x.do(ctx, http.MethodGet, "/_alias/"+x.readAlias(), nil, nil, &res)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alias %s: %w", x.readAlias(), err)
	}
	out := make([]string, 0, len(res))
	for idx := range res {
		out = append(out, idx)
	}
	return out, nil
}

// createIndex makes a new, empty index from the template. For a bulk build
// it turns refreshes and replicas off; finishBuild turns them back on.
func (x *Index) createIndex(ctx context.Context, bulk bool) (string, error) {
	idx := fmt.Sprintf("%s-idx-%d", x.name, time.Now().UnixNano())
	body := map[string]any{"mappings": map[string]any{"_meta": map[string]any{"mapping": mappingVersion}}}
	if bulk {
		body["settings"] = map[string]any{"index": map[string]any{"refresh_interval": "-1", "number_of_replicas": 0}}
	}
	if err := x.do(ctx, http.MethodPut, "/"+idx, nil, body, nil); err != nil {
		return "", fmt.Errorf("create index %s: %w", idx, err)
	}
	return idx, nil
}

// Index adds or replaces documents by ID in one bulk request, and waits
// until searches see them. A document whose Version is older than the one
// in the index is skipped (it is stale, not an error).
func (x *Index) Index(ctx context.Context, docs ...search.Document) error {
	if err := x.ensure(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index documents: %w", err)
	}
	if len(docs) == 0 {
		return nil
	}
	var body bytes.Buffer
	for i, d := range docs {
		if d.ID == "" {
			return fmt.Errorf("index documents: document %d has an empty ID", i)
		}
		meta := map[string]any{"_id": d.ID}
		if d.Version > 0 {
			meta["version"], meta["version_type"] = d.Version, "external_gte"
		}
		writeLine(&body, map[string]any{"index": meta})
		writeLine(&body, source(d))
	}
	if err := x.bulk(ctx, x.writeAlias(), &body); err != nil {
		return fmt.Errorf("index %d documents: %w", len(docs), err)
	}
	return nil
}

// Delete removes documents by ID; unknown IDs are ignored.
func (x *Index) Delete(ctx context.Context, ids ...string) error {
	dels := make([]search.Deletion, 0, len(ids))
	for _, id := range ids {
		dels = append(dels, search.Deletion{ID: id})
	}
	return x.DeleteVersions(ctx, dels...)
}

// DeleteVersions removes documents at a version: the index remembers it for
// an hour (gcDeletes), so an older update of the same document arriving
// meanwhile is refused instead of bringing it back. A document already at a
// newer version stays.
func (x *Index) DeleteVersions(ctx context.Context, dels ...search.Deletion) error {
	if err := x.ensure(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete documents: %w", err)
	}
	var body bytes.Buffer
	n := 0
	for _, d := range dels {
		if d.ID == "" {
			continue
		}
		meta := map[string]any{"_id": d.ID}
		if d.Version > 0 {
			meta["version"], meta["version_type"] = d.Version, "external_gte"
		}
		writeLine(&body, map[string]any{"delete": meta})
		n++
	}
	if n == 0 {
		return nil
	}
	if err := x.bulk(ctx, x.writeAlias(), &body); err != nil {
		return fmt.Errorf("delete %d documents: %w", n, err)
	}
	return nil
}

// bulkResponse is the part of a _bulk answer the adapter reads.
type bulkResponse struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		ID     string   `json:"_id"`
		Status int      `json:"status"`
		Error  *esError `json:"error"`
	} `json:"items"`
}

// bulk sends one _bulk request to target and checks every item: a version
// conflict means a newer version is already there (fine), a missing
// document on delete is fine, 429 is backpressure (ErrUnavailable, retry
// later), anything else fails the call.
func (x *Index) bulk(ctx context.Context, target string, body *bytes.Buffer) error {
	var res bulkResponse
	q := url.Values{"refresh": {"wait_for"}}
	if err := x.do(ctx, http.MethodPost, "/"+target+"/_bulk", q, body, &res); err != nil {
		return err
	}
	if !res.Errors {
		return nil
	}
	var failed []string
	busy := false
	for _, item := range res.Items {
		for action, r := range item {
			switch {
			case r.Status < 300:
			case r.Status == http.StatusConflict:
				// Stale: the index holds a newer version.
			case r.Status == http.StatusNotFound && action == "delete":
			case r.Status == http.StatusTooManyRequests:
				busy = true
				failed = append(failed, fmt.Sprintf("%s %s: %s", action, r.ID, r.Error))
			default:
				failed = append(failed, fmt.Sprintf("%s %s: %s", action, r.ID, r.Error))
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	err := fmt.Errorf("%d of %d bulk items failed: %s", len(failed), len(res.Items), strings.Join(failed[:min(len(failed), 5)], "; "))
	if busy {
		return fmt.Errorf("%w: %w", search.ErrUnavailable, err)
	}
	return err
}

// writeLine writes v as one line of NDJSON.
func writeLine(b *bytes.Buffer, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings, numbers and bools always marshal
	}
	b.Write(data)
	b.WriteByte('\n')
}

// Count is the number of documents behind the read alias.
func (x *Index) Count(ctx context.Context) (int64, error) {
	if err := x.ensure(ctx); err != nil {
		return 0, err
	}
	var res struct {
		Count int64 `json:"count"`
	}
	if err := x.do(ctx, http.MethodGet, "/"+x.readAlias()+"/_count", nil, nil, &res); err != nil {
		return 0, fmt.Errorf("count documents: %w", err)
	}
	return res.Count, nil
}

// Reset removes every document: a new, empty index takes the aliases over
// at once, and the old one is dropped after the grace period.
func (x *Index) Reset(ctx context.Context) error {
	if err := x.Rebuild(ctx, func(func(...search.Document) error) error { return nil }); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return nil
}

// Rebuild implements search.Rebuilder. It creates a new index and moves
// the write alias to it first, so that updates made during the build land
// in the new index; fill writes every document into it through the bulk
// indexer, each at its version, so that a document read before an update
// that already landed is refused (a version conflict, skipped) instead of
// undoing it. Searches keep using the old index through the read alias until
// one _aliases call moves it, atomically; the old index is dropped after the
// grace period. Updates made during the build therefore show in searches
// only from the swap on. If the build fails, the write alias goes back to
// the old index, the documents written to the new one by updates during the
// build are copied back (a _reindex with external versions: only those newer
// than the old index's copy), and the new index is dropped. Deletions made
// during a failed build are not copied back; the product service skips hits
// that are no longer active, and the next reindex removes them.
func (x *Index) Rebuild(ctx context.Context, fill func(put func(docs ...search.Document) error) error) error {
	if err := x.ensure(ctx); err != nil {
		return err
	}
	old, err := x.aliasTargets(ctx)
	if err != nil {
		return err
	}
	idx, err := x.createIndex(ctx, true)
	if err != nil {
		return err
	}
	moveWrite := func(ctx context.Context, from []string, to string) error {
		actions := []any{map[string]any{"add": map[string]any{"index": to, "alias": x.writeAlias(), "is_write_index": true}}}
		for _, o := range from {
			actions = append(actions, map[string]any{"remove": map[string]any{"index": o, "alias": x.writeAlias()}})
		}
		return x.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": actions}, nil)
	}
	if err := moveWrite(ctx, old, idx); err != nil {
		_ = x.do(context.WithoutCancel(ctx), http.MethodDelete, "/"+idx, nil, nil, nil)
		return fmt.Errorf("move the write alias to %s: %w", idx, err)
	}
	abandon := func() {
		ctx := context.WithoutCancel(ctx)
		if len(old) == 1 {
			if err := moveWrite(ctx, []string{idx}, old[0]); err != nil {
				x.log.Error("could not move the write alias back after a failed rebuild; run `emporium reindex`", "index", old[0], "err", err)
			} else if err := x.copyNewer(ctx, idx, old[0]); err != nil {
				x.log.Error("could not copy the updates made during a failed rebuild back; run `emporium reindex`", "index", old[0], "err", err)
			}
		}
		_ = x.do(ctx, http.MethodDelete, "/"+idx, nil, nil, nil)
	}

	var (
		failMu sync.Mutex
		failed []string
	)
	fail := func(msg string) {
		failMu.Lock()
		defer failMu.Unlock()
		if len(failed) < 5 {
			failed = append(failed, msg)
		}
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:     x.client,
		Index:      idx,
		NumWorkers: 2,
		FlushBytes: 4 << 20,
		OnError:    func(_ context.Context, err error) { fail(err.Error()) },
	})
	if err != nil {
		abandon()
		return fmt.Errorf("bulk indexer: %w", err)
	}
	put := func(docs ...search.Document) error {
		for i, d := range docs {
			if d.ID == "" {
				return fmt.Errorf("document %d has an empty ID", i)
			}
			data, err := json.Marshal(source(d))
			if err != nil {
				return err
			}
			item := esutil.BulkIndexerItem{
				Action: "index", DocumentID: d.ID, Body: bytes.NewReader(data),
				OnFailure: func(_ context.Context, it esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
					if err == nil && r.Status == http.StatusConflict {
						return // an update during the build already wrote a newer version
					}
					if err != nil {
						fail(fmt.Sprintf("%s: %v", it.DocumentID, err))
						return
					}
					fail(fmt.Sprintf("%s: %s: %s", it.DocumentID, r.Error.Type, r.Error.Reason))
				},
			}
			if d.Version > 0 {
				v := d.Version
				item.Version, item.VersionType = &v, "external_gte"
			}
			if err := bi.Add(ctx, item); err != nil {
				return err
			}
		}
		return nil
	}
	fillErr := fill(put)
	closeErr := bi.Close(context.WithoutCancel(ctx))
	if err := errors.Join(fillErr, closeErr); err != nil {
		abandon()
		return fmt.Errorf("fill %s: %w", idx, err)
	}
	if len(failed) > 0 {
		abandon()
		return fmt.Errorf("fill %s: %d documents failed, e.g. %s", idx, bi.Stats().NumFailed, strings.Join(failed, "; "))
	}
	settings := map[string]any{"index": map[string]any{"refresh_interval": nil, "number_of_replicas": nil}}
	if err := x.do(ctx, http.MethodPut, "/"+idx+"/_settings", nil, settings, nil); err != nil {
		abandon()
		return fmt.Errorf("restore settings of %s: %w", idx, err)
	}
	if err := x.do(ctx, http.MethodPost, "/"+idx+"/_refresh", nil, nil, nil); err != nil {
		abandon()
		return fmt.Errorf("refresh %s: %w", idx, err)
	}
	actions := []any{map[string]any{"add": map[string]any{"index": idx, "alias": x.readAlias()}}}
	for _, o := range old {
		actions = append(actions, map[string]any{"remove": map[string]any{"index": o, "alias": x.readAlias()}})
	}
	if err := x.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": actions}, nil); err != nil {
		abandon()
		return fmt.Errorf("swap aliases to %s: %w", idx, err)
	}
	for _, o := range old {
		x.dropLater(o)
	}
	return nil
}

// copyNewer copies into dst the documents of src whose version is newer
// than dst's copy (or that dst lacks), in one _reindex call.
func (x *Index) copyNewer(ctx context.Context, src, dst string) error {
	var res struct {
		Failures []json.RawMessage `json:"failures"`
	}
	body := map[string]any{
		"conflicts": "proceed",
		"source":    map[string]any{"index": src},
		"dest":      map[string]any{"index": dst, "version_type": "external"},
	}
	if err := x.do(ctx, http.MethodPost, "/_reindex", url.Values{"refresh": {"true"}}, body, &res); err != nil {
		return err
	}
	if len(res.Failures) > 0 {
		return fmt.Errorf("%d documents failed, e.g. %s", len(res.Failures), res.Failures[0])
	}
	return nil
}

// dropLater deletes an index once the grace period is over (or at Close).
func (x *Index) dropLater(idx string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	drop := func() {
		x.mu.Lock()
		delete(x.drops, idx)
		x.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := x.do(ctx, http.MethodDelete, "/"+idx, nil, nil, nil); err != nil && !isStatus(err, http.StatusNotFound) {
			x.log.Warn("could not drop the old search index; delete it by hand", "index", idx, "err", err)
		}
	}
	if x.closed {
		go drop()
		return
	}
	x.drops[idx] = time.AfterFunc(x.grace, drop)
}

// Synonyms implements search.Synonyms: the rules of the synonyms set.
func (x *Index) Synonyms(ctx context.Context) ([]string, error) {
	if err := x.ensure(ctx); err != nil {
		return nil, err
	}
	var res struct {
		Count int `json:"count"`
		Set   []struct {
			ID       string `json:"id"`
			Synonyms string `json:"synonyms"`
		} `json:"synonyms_set"`
	}
	if err := x.do(ctx, http.MethodGet, "/_synonyms/"+x.name, url.Values{"size": {"10000"}}, nil, &res); err != nil {
		return nil, fmt.Errorf("read synonyms: %w", err)
	}
	out := make([]string, 0, len(res.Set))
	for _, r := range res.Set {
		out = append(out, r.Synonyms)
	}
	return out, nil
}

// SetSynonyms implements search.Synonyms: it replaces the synonyms set,
// which Elasticsearch reloads into the search analyzers of every index that
// uses it (no reindex).
func (x *Index) SetSynonyms(ctx context.Context, rules []string) error {
	if err := x.ensure(ctx); err != nil {
		return err
	}
	parsed, err := search.ParseSynonyms(rules)
	if err != nil {
		return fmt.Errorf("set synonyms: %w", err)
	}
	rules = make([]string, len(parsed))
	for i, r := range parsed {
		rules[i] = r.String()
	}
	if err := x.putSynonyms(ctx, rules); err != nil {
		return fmt.Errorf("set synonyms: %w", err)
	}
	return nil
}

func (x *Index) putSynonyms(ctx context.Context, rules []string) error {
	set := make([]map[string]string, 0, len(rules))
	for i, r := range rules {
		set = append(set, map[string]string{"id": "r" + strconv.Itoa(i), "synonyms": r})
	}
	return x.do(ctx, http.MethodPut, "/_synonyms/"+x.name, nil, map[string]any{"synonyms_set": set}, nil)
}

// Close drops the old indexes still in their grace period and releases the
// client's connections.
func (x *Index) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.closed = true
	var pending []string
	for idx, t := range x.drops {
		if t.Stop() {
			pending = append(pending, idx)
		}
	}
	x.drops = map[string]*time.Timer{}
	x.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, idx := range pending {
		if err := x.do(ctx, http.MethodDelete, "/"+idx, nil, nil, nil); err != nil && !isStatus(err, http.StatusNotFound) {
			x.log.Warn("could not drop the old search index; delete it by hand", "index", idx, "err", err)
		}
	}
	return x.client.Close(ctx)
}

// esError is Elasticsearch's error object.
type esError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

func (e *esError) String() string {
	if e == nil {
		return "(no reason given)"
	}
	return e.Type + ": " + e.Reason
}

// StatusError is an error answer of the cluster.
type StatusError struct {
	Status int
	Type   string
	Reason string
}

func (e *StatusError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch answered %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch answered %d %s: %s", e.Status, e.Type, e.Reason)
}

// isStatus reports whether err is an answer with status code.
func isStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == code
}

// do sends one request (body: nil, an io.Reader of NDJSON, or a value to
// encode as JSON) and decodes a 2xx answer into out. Failures to connect
// and answers 429, 502, 503 and 504 (after the client's retries) wrap
// search.ErrUnavailable.
func (x *Index) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return do(ctx, x.client, method, path, query, body, out)
}

func do(ctx context.Context, client *es.Client, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case *bytes.Buffer:
		rd, contentType = b, "application/x-ndjson"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Perform(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if strings.Contains(err.Error(), "not Elasticsearch") {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		return fmt.Errorf("%w: %s %s: %w", search.ErrUnavailable, method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: read answer: %w", search.ErrUnavailable, method, path, err)
	}
	if res.StatusCode >= 300 {
		se := &StatusError{Status: res.StatusCode}
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && len(e.Error) > 0 {
			var obj esError
			if json.Unmarshal(e.Error, &obj) == nil && obj.Type != "" {
				se.Type, se.Reason = obj.Type, obj.Reason
			} else {
				se.Reason = strings.Trim(string(e.Error), `"`)
			}
		}
		switch res.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return fmt.Errorf("%w: %s %s: %w", search.ErrUnavailable, method, path, se)
		}
		return fmt.Errorf("%s %s: %w", method, path, se)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
