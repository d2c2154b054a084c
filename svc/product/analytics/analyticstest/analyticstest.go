// Package analyticstest is the contract suite of the search analytics port:
// every adapter of analytics.Store must pass Run. It records a small,
// known history of searches, clicks, add-to-carts and purchases and checks
// the exact figures of every report, over ranges and pages, with
// duplicates, unicode and retention.
package analyticstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/svc/product/analytics"
)

// Run runs the suite against the adapter open makes. open must return a new,
// empty store for every call, cleaned up when t ends; subtests run in
// parallel.
func Run(t *testing.T, open func(t *testing.T) analytics.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s analytics.Store)
	}{
		{"TopQueries", testTop},
		{"ZeroResultQueries", testZero},
		{"ClickedNotBought", testClickedNotBought},
		{"Summary", testSummary},
		{"Range", testRange},
		{"Paging", testPaging},
		{"Duplicates", testDuplicates},
		{"Unicode", testUnicode},
		{"Retention", testRetention},
		{"Empty", testEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// Day0 is the first day of the recorded history (UTC midnight).
var Day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// at is hour h of day d of the history.
func at(d, h int) time.Time {
	return Day0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

// search is a search event with id, query, hits on day d.
func search(id, query string, hits int64, d int) analytics.Event {
	return analytics.Event{
		Kind: analytics.Search, SearchID: id, At: at(d, 10), Query: query, Hits: hits,
		Latency: 3 * time.Millisecond, Session: analytics.SessionKey("salt", "session-"+id), Filters: "",
	}
}

func action(k analytics.Kind, id, product string, d int) analytics.Event {
	return analytics.Event{Kind: k, SearchID: id, ProductID: product, At: at(d, 11)}
}

// history is what every test records: over days 0 to 2,
//
//	"rain jacket": 4 searches (s1–s4), 3 clicked (s1, s2, s3), s1 carted and bought, s2 carted
//	"boots":       2 searches (s5, s6), s5 clicked, nothing bought
//	"mittens":     3 searches that found nothing (z1–z3), one of them on day 2
//	"scarf":       1 search that found nothing (z4)
//	"mug":         1 search (s7) on day 2, clicked
func history() []analytics.Event {
	return []analytics.Event{
		search("s1", "rain jacket", 12, 0),
		search("s2", "rain jacket", 12, 0),
		search("s3", "rain jacket", 12, 1),
		search("s4", "rain jacket", 12, 1),
		search("s5", "boots", 4, 0),
		search("s6", "boots", 4, 1),
		search("z1", "mittens", 0, 0),
		search("z2", "mittens", 0, 1),
		search("z3", "mittens", 0, 2),
		search("z4", "scarf", 0, 1),
		search("s7", "mug", 2, 2),
		action(analytics.Click, "s1", "p-jacket", 0),
		action(analytics.Click, "s1", "p-jacket-2", 0), // a second click on one search counts once
		action(analytics.Click, "s2", "p-jacket", 0),
		action(analytics.Click, "s3", "p-jacket", 1),
		action(analytics.AddToCart, "s1", "p-jacket", 0),
		action(analytics.AddToCart, "s2", "p-jacket", 0),
		action(analytics.Purchase, "s1", "p-jacket", 0),
		action(analytics.Click, "s5", "p-boot", 0),
		action(analytics.Click, "s7", "p-mug", 2),
		action(analytics.Click, "unknown-search", "p-mug", 2), // counts in no report
	}
}

func record(t *testing.T, s analytics.Store, events []analytics.Event) {
	t.Helper()
	if err := s.Record(context.Background(), events); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

func queries(t *testing.T, s analytics.Store, q analytics.ListQuery) []analytics.QueryStat {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	got, err := s.Queries(context.Background(), q)
	if err != nil {
		t.Fatalf("Queries(%+v): %v", q, err)
	}
	return got
}

func stat(q string, searches, zero, clicks, carts, buys int64, last time.Time) analytics.QueryStat {
	return analytics.QueryStat{Query: q, Searches: searches, ZeroResults: zero, Clicks: clicks, AddsToCart: carts, Purchases: buys, LastSearch: last}
}

func testTop(t *testing.T, s analytics.Store) {
	record(t, s, history())
	got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries})
	want := []analytics.QueryStat{
		stat("rain jacket", 4, 0, 3, 2, 1, at(1, 10)),
		stat("mittens", 3, 3, 0, 0, 0, at(2, 10)),
		stat("boots", 2, 0, 1, 0, 0, at(1, 10)),
		stat("mug", 1, 0, 1, 0, 0, at(2, 10)),
		stat("scarf", 1, 1, 0, 0, 0, at(1, 10)),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("top queries (-want +got):\n%s", d)
	}
}

func testZero(t *testing.T, s analytics.Store) {
	record(t, s, history())
	got := queries(t, s, analytics.ListQuery{Report: analytics.ZeroResultQueries})
	want := []analytics.QueryStat{
		stat("mittens", 3, 3, 0, 0, 0, at(2, 10)),
		stat("scarf", 1, 1, 0, 0, 0, at(1, 10)),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("zero-result queries (-want +got):\n%s", d)
	}
}

func testClickedNotBought(t *testing.T, s analytics.Store) {
	record(t, s, history())
	got := queries(t, s, analytics.ListQuery{Report: analytics.ClickedNotBought})
	// "rain jacket" was bought once, so it is not here.
	want := []analytics.QueryStat{
		stat("boots", 2, 0, 1, 0, 0, at(1, 10)),
		stat("mug", 1, 0, 1, 0, 0, at(2, 10)),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("clicked, not bought (-want +got):\n%s", d)
	}
}

func testSummary(t *testing.T, s analytics.Store) {
	record(t, s, history())
	got, err := s.Summarize(context.Background(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	want := analytics.Summary{Searches: 11, ZeroResults: 4, Clicks: 5, AddsToCart: 2, Purchases: 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if r := got.ClickThroughRate(); r != 5.0/11 {
		t.Errorf("click-through rate = %v, want 5/11", r)
	}
	if r := got.ConversionRate(); r != 1.0/11 {
		t.Errorf("conversion rate = %v, want 1/11", r)
	}
}

func testRange(t *testing.T, s analytics.Store) {
	record(t, s, history())
	day1 := analytics.Range{From: at(1, 0), To: at(2, 0)}
	got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries, Range: day1})
	want := []analytics.QueryStat{
		stat("rain jacket", 2, 0, 1, 0, 0, at(1, 10)),
		stat("boots", 1, 0, 0, 0, 0, at(1, 10)),
		stat("mittens", 1, 1, 0, 0, 0, at(1, 10)),
		stat("scarf", 1, 1, 0, 0, 0, at(1, 10)),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("top queries of day 1 (-want +got):\n%s", d)
	}
	sum, err := s.Summarize(context.Background(), day1)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(analytics.Summary{Searches: 5, ZeroResults: 2, Clicks: 1}, sum); d != "" {
		t.Errorf("summary of day 1 (-want +got):\n%s", d)
	}
	// From is inclusive, To exclusive.
	exact := analytics.Range{From: at(2, 10), To: at(2, 10).Add(time.Microsecond)}
	if got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries, Range: exact}); len(got) != 2 {
		t.Errorf("searches at exactly From: %v, want mittens and mug", got)
	}
	if got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries, Range: analytics.Range{To: at(0, 10)}}); len(got) != 0 {
		t.Errorf("searches before a To equal to the first search: %v, want none", got)
	}
}

func testPaging(t *testing.T, s analytics.Store) {
	record(t, s, history())
	var pages [][]string
	for offset := 0; offset < 10; offset += 2 {
		page := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries, Offset: offset, Limit: 2})
		if len(page) == 0 {
			break
		}
		var names []string
		for _, q := range page {
			names = append(names, q.Query)
		}
		pages = append(pages, names)
	}
	want := [][]string{{"rain jacket", "mittens"}, {"boots", "mug"}, {"scarf"}}
	if d := cmp.Diff(want, pages); d != "" {
		t.Errorf("pages of 2 (-want +got):\n%s", d)
	}
}

func testDuplicates(t *testing.T, s analytics.Store) {
	// A batch written twice (a retried write) and a duplicate inside one
	// batch count once.
	events := []analytics.Event{
		search("d1", "tent", 3, 0),
		search("d1", "tent", 3, 0),
		action(analytics.Click, "d1", "p-tent", 0),
		action(analytics.Click, "d1", "p-tent", 0),
		action(analytics.Purchase, "d1", "p-tent", 0),
	}
	record(t, s, events)
	record(t, s, events)
	got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries})
	if d := cmp.Diff([]analytics.QueryStat{stat("tent", 1, 0, 1, 0, 1, at(0, 10))}, got); d != "" {
		t.Errorf("after duplicates (-want +got):\n%s", d)
	}
}

func testUnicode(t *testing.T, s analytics.Store) {
	long := analytics.Normalize(fmt.Sprintf("%0200d", 7) + " überjacke")
	queries0 := []string{"über jacke", "雨衣", "café crème", long}
	var events []analytics.Event
	for i, q := range queries0 {
		events = append(events, search(fmt.Sprintf("u%d", i), q, int64(i), 0))
	}
	record(t, s, events)
	got := queries(t, s, analytics.ListQuery{Report: analytics.TopQueries})
	seen := map[string]bool{}
	for _, q := range got {
		seen[q.Query] = true
	}
	for _, q := range queries0 {
		if !seen[q] {
			t.Errorf("query %q not stored as it was recorded; got %v", q, got)
		}
	}
}

func testRetention(t *testing.T, s analytics.Store) {
	record(t, s, history())
	if err := s.DeleteBefore(context.Background(), at(1, 0)); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summarize(context.Background(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	// Days 1 and 2 remain: s3, s4, s6, z2, z3, z4, s7; clicks s3, s7.
	if d := cmp.Diff(analytics.Summary{Searches: 7, ZeroResults: 3, Clicks: 2}, sum); d != "" {
		t.Errorf("after deleting day 0 (-want +got):\n%s", d)
	}
}

func testEmpty(t *testing.T, s analytics.Store) {
	for _, r := range []analytics.Report{analytics.TopQueries, analytics.ZeroResultQueries, analytics.ClickedNotBought} {
		if got := queries(t, s, analytics.ListQuery{Report: r}); len(got) != 0 {
			t.Errorf("report %d of an empty store: %v", r, got)
		}
	}
	sum, err := s.Summarize(context.Background(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if sum != (analytics.Summary{}) || sum.ClickThroughRate() != 0 || sum.ConversionRate() != 0 {
		t.Errorf("summary of an empty store: %+v", sum)
	}
}
