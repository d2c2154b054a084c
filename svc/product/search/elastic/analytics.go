package elastic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	es "github.com/elastic/go-elasticsearch/v8"

	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/search"
)

var _ analytics.Store = (*Analytics)(nil)

// analyticsSuffix names the analytics index after the catalog's name
// (emporium-products-analytics by default), eventsSuffix the data stream of
// raw events (emporium-products-search-events).
const (
	analyticsSuffix = "-analytics"
	eventsSuffix    = "-search-events"
)

// maxReportQueries bounds the distinct queries the clicked-not-bought report
// looks at in one range (the terms aggregation's size before its bucket
// selector): past it, the least clicked queries of the range are left out.
const maxReportQueries = 10000

// Analytics is the search analytics port (package analytics) in
// Elasticsearch, in two places written by one bulk request:
//
//   - the data stream <name>-search-events: every event as it came, append
//     only, for ad-hoc analysis (Kibana, ES|QL) and as the record of truth;
//   - the index <name>-analytics: one document per search, keyed by its
//     search id (one shard, so that every figure is exact), which the
//     reports read.
//
// Why the reports do not read the data stream: they join a search with what
// followed it (a click, an add-to-cart, a purchase, which can come minutes
// later and from another replica), and Elasticsearch has no joins. So every
// event is also an upsert of its search's document (the entity-centric
// layout a pivot transform would build from the data stream, kept up to
// date by the writes themselves): a search sets the query's fields, an
// action sets a flag. Upserts commute, so events arriving out of order, twice, or from
// several replicas at once (retry_on_conflict) give the same document, and
// "searches with at least one click" is a filter on a flag instead of a
// distinct count. Actions of a search never recorded make a document
// without a query, which counts in no report and is removed by retention.
type Analytics struct {
	client *es.Client
	index  string // per search
	stream string // raw events
	log    *slog.Logger

	setup retrySetup
}

// OpenAnalytics connects to the cluster cfg describes and makes sure the
// analytics index exists. As with Open, a cluster that cannot be reached
// does not fail it: every call answers analytics.ErrUnavailable and tries
// the setup again until the cluster is back.
func OpenAnalytics(ctx context.Context, cfg Config) (*Analytics, error) {
	client, name, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Analytics{client: client, index: name + analyticsSuffix, stream: name + eventsSuffix, log: log}
	if err := a.ensure(ctx); err != nil {
		if !errors.Is(err, analytics.ErrUnavailable) {
			return nil, err
		}
		log.Warn("elasticsearch is unreachable; search analytics are not recorded until it is back", "err", err)
	}
	return a, nil
}

// Close releases the client's connections.
func (a *Analytics) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.client.Close(ctx)
}

// Document fields of the analytics index.
const (
	afQuery    = "query"         // keyword: the normalised query
	afFilters  = "filters"       // keyword, not indexed
	afHits     = "hits"          // long
	afLatency  = "latency_us"    // long, microseconds
	afSession  = "session"       // keyword: analytics.SessionKey's hash
	afSearched = "searched_at"   // long, Unix microseconds: what ranges select
	afLast     = "last_event_at" // long, Unix microseconds: retention of documents without a search
	afClicked  = "clicked"       // boolean
	afCarted   = "carted"        // boolean
	afBought   = "bought"        // boolean
)

// analyticsTemplate is the analytics index's template: strict, one shard.
func analyticsTemplate(index string) map[string]any {
	kw := map[string]any{"type": "keyword"}
	long := map[string]any{"type": "long"}
	boolean := map[string]any{"type": "boolean"}
	return map[string]any{
		"index_patterns": []string{index},
		"priority":       200,
		"template": map[string]any{
			"settings": map[string]any{"index": map[string]any{"number_of_shards": 1}},
			"mappings": map[string]any{
				"dynamic": "strict",
				"properties": map[string]any{
					afQuery: kw, afFilters: map[string]any{"type": "keyword", "index": false},
					afHits: long, afLatency: long, afSession: kw, afSearched: long, afLast: long,
					afClicked: boolean, afCarted: boolean, afBought: boolean,
				},
			},
		},
		"_meta": map[string]any{"description": "Emporium search analytics: one document per search"},
	}
}

// Fields of the events data stream besides the shared ones (afQuery,
// afFilters, afHits, afLatency, afSession).
const (
	efTimestamp = "@timestamp" // date: when the event happened
	efAt        = "at_us"      // long, Unix microseconds: retention
	efKind      = "kind"       // keyword: search, click, add_to_cart, purchase
	efSearchID  = "search_id"  // keyword
	efProduct   = "product_id" // keyword: actions only
)

// eventsTemplate is the events data stream's template.
func eventsTemplate(stream string) map[string]any {
	kw := map[string]any{"type": "keyword"}
	long := map[string]any{"type": "long"}
	return map[string]any{
		"index_patterns": []string{stream},
		"data_stream":    map[string]any{},
		"priority":       200,
		"template": map[string]any{
			"mappings": map[string]any{
				"dynamic": "strict",
				"properties": map[string]any{
					efTimestamp: map[string]any{"type": "date"}, efAt: long, efKind: kw, efSearchID: kw, efProduct: kw,
					afQuery: kw, afFilters: map[string]any{"type": "keyword", "index": false},
					afHits: long, afLatency: long, afSession: kw,
				},
			},
		},
		"_meta": map[string]any{"description": "Emporium search analytics: every event as recorded"},
	}
}

// eventID names an event in the data stream, so that a batch written twice
// is refused as a duplicate (409) instead of stored again. Data streams
// check ids per backing index: after a rollover a retried batch may repeat
// an event there; the reports, which read the per-search index, are not
// affected.
func eventID(e analytics.Event) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s", e.Kind, e.SearchID, e.ProductID)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// unavailable makes the search adapter's unavailability the analytics
// port's.
func unavailable(err error) error {
	if err != nil && errors.Is(err, search.ErrUnavailable) && !errors.Is(err, analytics.ErrUnavailable) {
		return fmt.Errorf("%w: %w", analytics.ErrUnavailable, err)
	}
	return err
}

func (a *Analytics) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return unavailable(do(ctx, a.client, method, path, query, body, out))
}

// ensure runs runSetup until it has worked once,
// trying at most once a second.
func (a *Analytics) ensure(ctx context.Context) error {
	return a.setup.do(func() error {
		if err := a.runSetup(ctx); err != nil {
			return fmt.Errorf("elasticsearch analytics index %s: %w", a.index, err)
		}
		return nil
	})
}

// runSetup writes both templates and creates the index and the data stream
// (either may exist already).
func (a *Analytics) runSetup(ctx context.Context) error {
	exists := func(err error) error {
		var se *StatusError
		if errors.As(err, &se) && se.Type == "resource_already_exists_exception" {
			return nil
		}
		return err
	}
	err := a.do(ctx, http.MethodPut, "/_index_template/"+a.index, nil, analyticsTemplate(a.index), nil)
	if err == nil {
		err = exists(a.do(ctx, http.MethodPut, "/"+a.index, nil, nil, nil))
	}
	if err == nil {
		err = a.do(ctx, http.MethodPut, "/_index_template/"+a.stream, nil, eventsTemplate(a.stream), nil)
	}
	if err == nil {
		err = exists(a.do(ctx, http.MethodPut, "/_data_stream/"+a.stream, nil, nil, nil))
	}
	return err
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

// Record implements analytics.Store: one bulk request of upserts, visible
// to reports when it returns.
func (a *Analytics) Record(ctx context.Context, events []analytics.Event) error {
	if err := a.ensure(ctx); err != nil {
		return err
	}
	var body bytes.Buffer
	n := 0
	for _, e := range events {
		if e.SearchID == "" {
			continue
		}
		doc := map[string]any{afLast: micros(e.At)}
		event := map[string]any{
			efTimestamp: e.At.UTC().Format(time.RFC3339Nano), efAt: micros(e.At), efKind: e.Kind.String(), efSearchID: e.SearchID,
		}
		switch e.Kind {
		case analytics.Search:
			doc[afQuery], doc[afFilters], doc[afHits] = e.Query, e.Filters, e.Hits
			doc[afLatency], doc[afSession], doc[afSearched] = e.Latency.Microseconds(), e.Session, micros(e.At)
			event[afQuery], event[afFilters], event[afHits] = e.Query, e.Filters, e.Hits
			event[afLatency], event[afSession] = e.Latency.Microseconds(), e.Session
		default:
			event[efProduct] = e.ProductID
		}
		switch e.Kind {
		case analytics.Search:
		case analytics.Click:
			doc[afClicked] = true
		case analytics.AddToCart:
			doc[afCarted] = true
		case analytics.Purchase:
			doc[afBought] = true
		default:
			return fmt.Errorf("search analytics: unknown event kind %d", e.Kind)
		}
		writeLine(&body, map[string]any{"create": map[string]any{"_index": a.stream, "_id": eventID(e)}})
		writeLine(&body, event)
		writeLine(&body, map[string]any{"update": map[string]any{"_index": a.index, "_id": e.SearchID, "retry_on_conflict": 5}})
		writeLine(&body, map[string]any{"doc": doc, "doc_as_upsert": true})
		n++
	}
	if n == 0 {
		return nil
	}
	var res bulkResponse
	if err := a.do(ctx, http.MethodPost, "/_bulk", url.Values{"refresh": {"wait_for"}}, &body, &res); err != nil {
		return fmt.Errorf("record %d search analytics events: %w", n, err)
	}
	if !res.Errors {
		return nil
	}
	var failed []string
	busy := false
	for _, item := range res.Items {
		for action, r := range item {
			if r.Status < 300 || (action == "create" && r.Status == http.StatusConflict) {
				continue // a create refused as a duplicate was written before
			}
			busy = busy || r.Status == http.StatusTooManyRequests
			failed = append(failed, fmt.Sprintf("%s %s: %s", action, r.ID, r.Error))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	// Upserts are idempotent: the caller may send the whole batch again.
	err := fmt.Errorf("record search analytics: %d of %d bulk items failed: %v", len(failed), len(res.Items), failed[:min(len(failed), 5)])
	if busy {
		return fmt.Errorf("%w: %w", analytics.ErrUnavailable, err)
	}
	return err
}

// rangeFilter selects the searches made in r.
func rangeFilter(r analytics.Range) []any {
	filters := []any{map[string]any{"exists": map[string]any{"field": afSearched}}}
	bounds := map[string]any{}
	if !r.From.IsZero() {
		bounds["gte"] = micros(r.From)
	}
	if !r.To.IsZero() {
		bounds["lt"] = micros(r.To)
	}
	if len(bounds) > 0 {
		filters = append(filters, map[string]any{"range": map[string]any{afSearched: bounds}})
	}
	return filters
}

func flag(field string) map[string]any {
	return map[string]any{"filter": map[string]any{"term": map[string]any{field: map[string]any{"value": true}}}}
}

// measures are the sub-aggregations every group of searches reports.
func measures() map[string]any {
	return map[string]any{
		"zero":   map[string]any{"filter": map[string]any{"term": map[string]any{afHits: map[string]any{"value": 0}}}},
		"clicks": flag(afClicked),
		"carts":  flag(afCarted),
		"buys":   flag(afBought),
	}
}

type countAgg struct {
	DocCount int64 `json:"doc_count"`
}

// Queries implements analytics.Store with one terms aggregation on the
// query, ordered in Elasticsearch and paged with bucket_sort.
func (a *Analytics) Queries(ctx context.Context, lq analytics.ListQuery) ([]analytics.QueryStat, error) {
	if err := a.ensure(ctx); err != nil {
		return nil, err
	}
	if lq.Offset < 0 || lq.Limit <= 0 {
		return nil, fmt.Errorf("search analytics report: offset %d and limit %d", lq.Offset, lq.Limit)
	}
	filters := rangeFilter(lq.Range)
	size := lq.Offset + lq.Limit
	order := []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}}
	aggs := measures()
	aggs["last"] = map[string]any{"max": map[string]any{"field": afSearched}}
	switch lq.Report {
	case analytics.TopQueries:
	case analytics.ZeroResultQueries:
		filters = append(filters, map[string]any{"term": map[string]any{afHits: map[string]any{"value": 0}}})
	case analytics.ClickedNotBought:
		size = maxReportQueries
		order = append([]any{map[string]any{"clicks": "desc"}}, order...)
		// "keep" sorts before "page": Elasticsearch runs a bucket's
		// pipeline aggregations in the order they are given.
		aggs["keep"] = map[string]any{"bucket_selector": map[string]any{
			"buckets_path": map[string]any{"clicks": "clicks>_count", "buys": "buys>_count"},
			"script":       "params.clicks > 0 && params.buys == 0",
		}}
	default:
		return nil, fmt.Errorf("search analytics: unknown report %d", lq.Report)
	}
	if size > maxReportQueries {
		return nil, fmt.Errorf("search analytics report: offset %d is past the first %d queries", lq.Offset, maxReportQueries)
	}
	aggs["page"] = map[string]any{"bucket_sort": map[string]any{"from": lq.Offset, "size": lq.Limit}}
	body := map[string]any{
		"size": 0,
		"query": map[string]any{"bool": map[string]any{
			"filter":   filters,
			"must_not": []any{map[string]any{"term": map[string]any{afQuery: map[string]any{"value": ""}}}},
		}},
		"aggs": map[string]any{"queries": map[string]any{
			"terms": map[string]any{"field": afQuery, "size": size, "order": order},
			"aggs":  aggs,
		}},
	}
	var res struct {
		Aggregations struct {
			Queries struct {
				Buckets []struct {
					Key      string   `json:"key"`
					DocCount int64    `json:"doc_count"`
					Zero     countAgg `json:"zero"`
					Clicks   countAgg `json:"clicks"`
					Carts    countAgg `json:"carts"`
					Buys     countAgg `json:"buys"`
					Last     struct {
						Value *float64 `json:"value"`
					} `json:"last"`
				} `json:"buckets"`
			} `json:"queries"`
		} `json:"aggregations"`
	}
	if err := a.do(ctx, http.MethodPost, "/"+a.index+"/_search", nil, body, &res); err != nil {
		return nil, fmt.Errorf("search analytics report: %w", err)
	}
	buckets := res.Aggregations.Queries.Buckets
	out := make([]analytics.QueryStat, 0, len(buckets))
	for _, b := range buckets {
		s := analytics.QueryStat{
			Query: b.Key, Searches: b.DocCount, ZeroResults: b.Zero.DocCount, Clicks: b.Clicks.DocCount,
			AddsToCart: b.Carts.DocCount, Purchases: b.Buys.DocCount,
		}
		if b.Last.Value != nil {
			s.LastSearch = time.UnixMicro(int64(*b.Last.Value)).UTC()
		}
		out = append(out, s)
	}
	return out, nil
}

// Summarize implements analytics.Store.
func (a *Analytics) Summarize(ctx context.Context, r analytics.Range) (analytics.Summary, error) {
	if err := a.ensure(ctx); err != nil {
		return analytics.Summary{}, err
	}
	body := map[string]any{
		"size": 0, "track_total_hits": true,
		"query": map[string]any{"bool": map[string]any{"filter": rangeFilter(r)}},
		"aggs":  measures(),
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int64 `json:"value"`
			} `json:"total"`
		} `json:"hits"`
		Aggregations struct {
			Zero   countAgg `json:"zero"`
			Clicks countAgg `json:"clicks"`
			Carts  countAgg `json:"carts"`
			Buys   countAgg `json:"buys"`
		} `json:"aggregations"`
	}
	if err := a.do(ctx, http.MethodPost, "/"+a.index+"/_search", nil, body, &res); err != nil {
		return analytics.Summary{}, fmt.Errorf("search analytics summary: %w", err)
	}
	ag := res.Aggregations
	return analytics.Summary{
		Searches: res.Hits.Total.Value, ZeroResults: ag.Zero.DocCount, Clicks: ag.Clicks.DocCount,
		AddsToCart: ag.Carts.DocCount, Purchases: ag.Buys.DocCount,
	}, nil
}

// DeleteBefore implements analytics.Store: the searches made before t, and
// the documents of actions whose search was never recorded, last touched
// before t.
func (a *Analytics) DeleteBefore(ctx context.Context, t time.Time) error {
	if err := a.ensure(ctx); err != nil {
		return err
	}
	before := map[string]any{"lt": micros(t)}
	body := map[string]any{"query": map[string]any{"bool": map[string]any{
		"should": []any{
			map[string]any{"range": map[string]any{afSearched: before}},
			map[string]any{"bool": map[string]any{
				"must_not": []any{map[string]any{"exists": map[string]any{"field": afSearched}}},
				"filter":   []any{map[string]any{"range": map[string]any{afLast: before}}},
			}},
		},
		"minimum_should_match": 1,
	}}}
	q := url.Values{"refresh": {"true"}, "conflicts": {"proceed"}}
	if err := a.do(ctx, http.MethodPost, "/"+a.index+"/_delete_by_query", q, body, nil); err != nil {
		return fmt.Errorf("search analytics retention: %w", err)
	}
	events := map[string]any{"query": map[string]any{"range": map[string]any{efAt: before}}}
	if err := a.do(ctx, http.MethodPost, "/"+a.stream+"/_delete_by_query", q, events, nil); err != nil {
		return fmt.Errorf("search analytics retention of raw events: %w", err)
	}
	return nil
}
