// Package sqlstore is the search analytics port (package analytics) in the
// product service's own database, SQLite or PostgreSQL: the tables of
// migration 0005_search_analytics in svc/product/migrations. It is the
// embedded default.
package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/svc/product/analytics"
)

// Store keeps search analytics in a database migrated with the product
// service's migrations.
type Store struct {
	db *bun.DB
}

var _ analytics.Store = (*Store)(nil)

// New returns a store on db.
func New(db *bun.DB) *Store { return &Store{db: db} }

type queryRow struct {
	bun.BaseModel `bun:"table:search_queries"`

	SearchID      string `bun:"search_id,pk"`
	At            int64  `bun:"at"`
	Query         string `bun:"query"`
	Filters       string `bun:"filters"`
	Hits          int64  `bun:"hits"`
	LatencyMicros int64  `bun:"latency_micros"`
	Session       string `bun:"session"`
}

type actionRow struct {
	bun.BaseModel `bun:"table:search_actions"`

	SearchID  string `bun:"search_id,pk"`
	Kind      int16  `bun:"kind,pk"`
	ProductID string `bun:"product_id,pk"`
	At        int64  `bun:"at"`
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

// Record implements analytics.Store.
func (s *Store) Record(ctx context.Context, events []analytics.Event) error {
	var queries []queryRow
	var actions []actionRow
	seenQ := map[string]bool{}
	seenA := map[actionRow]bool{}
	for _, e := range events {
		if e.SearchID == "" {
			continue
		}
		if e.Kind == analytics.Search {
			if seenQ[e.SearchID] {
				continue
			}
			seenQ[e.SearchID] = true
			queries = append(queries, queryRow{
				SearchID: e.SearchID, At: micros(e.At), Query: e.Query, Filters: e.Filters,
				Hits: e.Hits, LatencyMicros: e.Latency.Microseconds(), Session: e.Session,
			})
			continue
		}
		a := actionRow{SearchID: e.SearchID, Kind: int16(e.Kind), ProductID: e.ProductID}
		if seenA[a] {
			continue
		}
		seenA[a] = true
		a.At = micros(e.At)
		actions = append(actions, a)
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if len(queries) > 0 {
			if _, err := tx.NewInsert().Model(&queries).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("record searches: %w", err)
			}
		}
		if len(actions) > 0 {
			if _, err := tx.NewInsert().Model(&actions).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("record search actions: %w", err)
			}
		}
		return nil
	})
}

// bounds turns r into microsecond bounds, open ends as the extremes.
func bounds(r analytics.Range) (from, to int64) {
	from, to = math.MinInt64, math.MaxInt64
	if !r.From.IsZero() {
		from = micros(r.From)
	}
	if !r.To.IsZero() {
		to = micros(r.To)
	}
	return from, to
}

// measures are the figures of a group of searches joined to their actions:
// each action kind counts the searches with at least one.
const measures = `COUNT(DISTINCT q.search_id) AS searches,
	COUNT(DISTINCT CASE WHEN q.hits = 0 THEN q.search_id END) AS zero_results,
	COUNT(DISTINCT CASE WHEN a.kind = 2 THEN q.search_id END) AS clicks,
	COUNT(DISTINCT CASE WHEN a.kind = 3 THEN q.search_id END) AS adds_to_cart,
	COUNT(DISTINCT CASE WHEN a.kind = 4 THEN q.search_id END) AS purchases`

const joined = `FROM search_queries AS q
	LEFT JOIN search_actions AS a ON a.search_id = q.search_id
	WHERE q.at >= ? AND q.at < ?`

type statRow struct {
	Query       string `bun:"query"`
	Searches    int64  `bun:"searches"`
	ZeroResults int64  `bun:"zero_results"`
	Clicks      int64  `bun:"clicks"`
	AddsToCart  int64  `bun:"adds_to_cart"`
	Purchases   int64  `bun:"purchases"`
	LastSearch  int64  `bun:"last_search"`
}

// Queries implements analytics.Store.
func (s *Store) Queries(ctx context.Context, lq analytics.ListQuery) ([]analytics.QueryStat, error) {
	from, to := bounds(lq.Range)
	where, having, order := "", "", "searches DESC"
	switch lq.Report {
	case analytics.TopQueries:
	case analytics.ZeroResultQueries:
		where = " AND q.hits = 0"
	case analytics.ClickedNotBought:
		having = ` HAVING COUNT(DISTINCT CASE WHEN a.kind = 2 THEN q.search_id END) > 0
			AND COUNT(DISTINCT CASE WHEN a.kind = 4 THEN q.search_id END) = 0`
		order = "clicks DESC, searches DESC"
	default:
		return nil, fmt.Errorf("search analytics: unknown report %d", lq.Report)
	}
	var rows []statRow
	err := s.db.NewRaw(`SELECT q.query AS query, `+measures+`, MAX(q.at) AS last_search `+joined+
		` AND q.query <> ''`+where+` GROUP BY q.query`+having+
		` ORDER BY `+order+`, q.query LIMIT ? OFFSET ?`,
		from, to, lq.Limit, lq.Offset).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("search analytics report: %w", err)
	}
	out := make([]analytics.QueryStat, len(rows))
	for i, r := range rows {
		out[i] = analytics.QueryStat{
			Query: r.Query, Searches: r.Searches, ZeroResults: r.ZeroResults, Clicks: r.Clicks,
			AddsToCart: r.AddsToCart, Purchases: r.Purchases, LastSearch: time.UnixMicro(r.LastSearch).UTC(),
		}
	}
	return out, nil
}

// Summarize implements analytics.Store.
func (s *Store) Summarize(ctx context.Context, r analytics.Range) (analytics.Summary, error) {
	from, to := bounds(r)
	var row statRow
	if err := s.db.NewRaw(`SELECT `+measures+` `+joined, from, to).Scan(ctx, &row); err != nil {
		return analytics.Summary{}, fmt.Errorf("search analytics summary: %w", err)
	}
	return analytics.Summary{
		Searches: row.Searches, ZeroResults: row.ZeroResults, Clicks: row.Clicks,
		AddsToCart: row.AddsToCart, Purchases: row.Purchases,
	}, nil
}

// DeleteBefore implements analytics.Store.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, table := range []string{"search_queries", "search_actions"} {
			if _, err := tx.NewRaw("DELETE FROM "+table+" WHERE at < ?", micros(t)).Exec(ctx); err != nil {
				return fmt.Errorf("search analytics retention: %w", err)
			}
		}
		return nil
	})
}
