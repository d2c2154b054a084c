package elastic_test

import (
	"errors"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/analytics/analyticstest"
	"github.com/emporiumhq/emporium/svc/product/search/elastic"
)

// openAnalytics opens the analytics adapter on a fresh name, closed when t
// ends.
func openAnalytics(t *testing.T, url string) *elastic.Analytics {
	t.Helper()
	a, err := elastic.OpenAnalytics(t.Context(), elastic.Config{URL: url, Name: uniqueName(t)})
	if err != nil {
		t.Fatalf("OpenAnalytics: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// TestAnalyticsContract holds the Elasticsearch analytics adapter to the
// port's contract suite, the one the SQL adapter passes.
func TestAnalyticsContract(t *testing.T) {
	analyticstest.Run(t, func(t *testing.T) analytics.Store {
		url, _ := cluster(t)
		return openAnalytics(t, url)
	})
}

// TestAnalyticsOutOfOrder records a search's actions before the search
// itself (another replica's batch was written first) and from two batches
// at once: the figures are the same.
func TestAnalyticsOutOfOrder(t *testing.T) {
	t.Parallel()
	url, _ := cluster(t)
	a := openAnalytics(t, url)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	actions := []analytics.Event{
		{Kind: analytics.Click, SearchID: "o1", ProductID: "p1", At: at.Add(time.Minute)},
		{Kind: analytics.Purchase, SearchID: "o1", ProductID: "p1", At: at.Add(time.Hour)},
	}
	if err := a.Record(t.Context(), actions); err != nil {
		t.Fatal(err)
	}
	sum, err := a.Summarize(t.Context(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if sum != (analytics.Summary{}) {
		t.Errorf("actions of a search not recorded yet count: %+v", sum)
	}
	if err := a.Record(t.Context(), []analytics.Event{{Kind: analytics.Search, SearchID: "o1", Query: "tent", Hits: 3, At: at}}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Queries(t.Context(), analytics.ListQuery{Report: analytics.TopQueries, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := analytics.QueryStat{Query: "tent", Searches: 1, Clicks: 1, Purchases: 1, LastSearch: at}
	if len(got) != 1 || got[0] != want {
		t.Errorf("after the search arrived: %+v, want [%+v]", got, want)
	}
}

// TestAnalyticsUnavailable: a cluster that is down or pushes back gives
// analytics.ErrUnavailable, and the same batch written again counts once.
func TestAnalyticsUnavailable(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	a := openAnalytics(t, f.URL())
	ev := []analytics.Event{{Kind: analytics.Search, SearchID: "u1", Query: "tent", At: time.Now()}}
	f.SetUnreachable(true)
	if err := a.Record(t.Context(), ev); !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("Record with the cluster down: %v, want ErrUnavailable", err)
	}
	if _, err := a.Summarize(t.Context(), analytics.Range{}); !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("Summarize with the cluster down: %v, want ErrUnavailable", err)
	}
	f.SetUnreachable(false)
	f.RejectBulkItems(1)
	if err := a.Record(t.Context(), ev); !errors.Is(err, analytics.ErrUnavailable) {
		t.Errorf("Record with its item rejected (429): %v, want ErrUnavailable", err)
	}
	if err := a.Record(t.Context(), ev); err != nil {
		t.Fatalf("Record once the cluster takes it: %v", err)
	}
	sum, err := a.Summarize(t.Context(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Searches != 1 {
		t.Errorf("searches after the retries = %d, want 1", sum.Searches)
	}
}

// TestAnalyticsOpenWhileDown: a process started while the cluster is down
// starts, and records once the cluster is back.
func TestAnalyticsOpenWhileDown(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	f.SetUnreachable(true)
	a := openAnalytics(t, f.URL())
	f.SetUnreachable(false)
	time.Sleep(1100 * time.Millisecond) // setup is tried again at most once a second
	ev := []analytics.Event{{Kind: analytics.Search, SearchID: "w1", Query: "tent", At: time.Now()}}
	if err := a.Record(t.Context(), ev); err != nil {
		t.Fatalf("Record once the cluster is back: %v", err)
	}
}

// TestAnalyticsRawEvents: every event also lands once, as it came, in the
// data stream <name>-search-events, and retention empties it too.
func TestAnalyticsRawEvents(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	name := uniqueName(t)
	a, err := elastic.OpenAnalytics(t.Context(), elastic.Config{URL: f.URL(), Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	events := []analytics.Event{
		{Kind: analytics.Search, SearchID: "r1", Query: "tent", Hits: 3, At: at},
		{Kind: analytics.Click, SearchID: "r1", ProductID: "p1", At: at.Add(time.Minute)},
		{Kind: analytics.Click, SearchID: "r1", ProductID: "p2", At: at.Add(2 * time.Minute)},
		{Kind: analytics.Click, SearchID: "r1", ProductID: "p1", At: at.Add(time.Minute)}, // a duplicate
	}
	for range 2 { // a retried batch
		if err := a.Record(t.Context(), events); err != nil {
			t.Fatal(err)
		}
	}
	stream := name + "-search-events"
	if n := f.DataStreamDocs(stream); n != 3 {
		t.Errorf("%s holds %d events, want 3 (a search, two clicks)", stream, n)
	}
	if err := a.DeleteBefore(t.Context(), at.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := f.DataStreamDocs(stream); n != 1 {
		t.Errorf("after retention %s holds %d events, want the later click only", stream, n)
	}
}
