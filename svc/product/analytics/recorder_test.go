package analytics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/analytics/sqlstore"
)

func newStore(t *testing.T) *sqlstore.Store {
	return sqlstore.New(dbtest.Open(t, "sqlite", "product", product.Migrations))
}

func searches(n int, prefix string) []analytics.Event {
	var out []analytics.Event
	for i := range n {
		out = append(out, analytics.Event{
			Kind: analytics.Search, SearchID: fmt.Sprintf("%s%d", prefix, i), At: time.Now(), Query: "tent", Hits: 1,
		})
	}
	return out
}

func summary(t *testing.T, s analytics.Store) analytics.Summary {
	t.Helper()
	sum, err := s.Summarize(context.Background(), analytics.Range{})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// A full buffer drops events and counts them; Record never blocks, and what
// was buffered is written once the recorder runs.
func TestRecorderDropsWhenFull(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	r := analytics.NewRecorder(store, analytics.RecorderConfig{Buffer: 3, Batch: 2})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, e := range searches(10, "s") {
			r.Record(e) // not started: nothing drains the buffer
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a full buffer")
	}
	if got := r.Dropped(); got != 7 {
		t.Errorf("Dropped() = %d, want 7", got)
	}
	ctx := context.Background()
	r.Start(ctx)
	r.Stop(ctx)
	if got := r.Written(); got != 3 {
		t.Errorf("Written() = %d, want 3", got)
	}
	if got := summary(t, store).Searches; got != 3 {
		t.Errorf("searches stored = %d, want the 3 buffered", got)
	}
}

// Events are written in batches: a batch fills and goes at once, the rest
// goes after the interval or on Flush.
func TestRecorderBatches(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	r := analytics.NewRecorder(store, analytics.RecorderConfig{Batch: 4, Interval: time.Hour})
	ctx := context.Background()
	r.Start(ctx)
	defer r.Stop(ctx)
	for _, e := range searches(9, "b") {
		r.Record(e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Written() < 8 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := r.Written(); got != 8 {
		t.Fatalf("Written() = %d before the interval, want two full batches of 4", got)
	}
	r.Flush(ctx)
	if got := summary(t, store).Searches; got != 9 {
		t.Errorf("after Flush, searches stored = %d, want 9", got)
	}
}

// A failed write loses its batch, counted, and the recorder goes on.
func TestRecorderFailedWrite(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite", "product", product.Migrations)
	store := sqlstore.New(d)
	r := analytics.NewRecorder(store, analytics.RecorderConfig{Interval: time.Hour})
	ctx := context.Background()
	r.Start(ctx)
	defer r.Stop(ctx)
	if _, err := d.ExecContext(ctx, "ALTER TABLE search_queries RENAME TO gone"); err != nil {
		t.Fatal(err)
	}
	for _, e := range searches(2, "f") {
		r.Record(e)
	}
	r.Flush(ctx)
	if got := r.Failed(); got != 2 {
		t.Errorf("Failed() = %d, want 2", got)
	}
	if _, err := d.ExecContext(ctx, "ALTER TABLE gone RENAME TO search_queries"); err != nil {
		t.Fatal(err)
	}
	for _, e := range searches(3, "g") {
		r.Record(e)
	}
	r.Flush(ctx)
	if got := summary(t, store).Searches; got != 3 {
		t.Errorf("searches stored after the store came back = %d, want 3", got)
	}
}

// Retention deletes what is older than the setting when the recorder starts.
func TestRecorderRetention(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	old := searches(2, "old")
	for i := range old {
		old[i].At = now.Add(-100 * 24 * time.Hour)
	}
	recent := searches(1, "new")
	recent[0].At = now.Add(-time.Hour)
	if err := store.Record(context.Background(), append(old, recent...)); err != nil {
		t.Fatal(err)
	}
	r := analytics.NewRecorder(store, analytics.RecorderConfig{Retention: 90 * 24 * time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	r.Start(ctx)
	r.Stop(ctx)
	if got := summary(t, store).Searches; got != 1 {
		t.Errorf("searches after retention = %d, want the 1 recent", got)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  Rain   JACKET ":          "rain jacket",
		`title:"jacket" AND (x*)~2`: "title jacket and x 2",
		"Café\tcrème":               "café crème",
		"雨衣":                        "雨衣",
		"!!!":                       "",
		strings.Repeat("ab ", 5000): strings.TrimSpace(strings.Repeat("ab ", 67)),
	} {
		if got := analytics.Normalize(in); got != want {
			t.Errorf("Normalize(%.40q) = %q, want %q", in, got, want)
		}
		if got := analytics.Normalize(in); len(got) > analytics.MaxQueryLen {
			t.Errorf("Normalize(%.40q) is %d bytes, over %d", in, len(got), analytics.MaxQueryLen)
		}
	}
}

func TestSessionKey(t *testing.T) {
	t.Parallel()
	k := analytics.SessionKey("salt", "user-42")
	if len(k) != 32 || strings.Contains(k, "user") {
		t.Errorf("SessionKey = %q: want 32 hex characters that do not contain the id", k)
	}
	if k != analytics.SessionKey("salt", "user-42") {
		t.Error("SessionKey is not stable")
	}
	if k == analytics.SessionKey("other salt", "user-42") {
		t.Error("SessionKey ignores the salt")
	}
	if k == analytics.SessionKey("salt", "user-43") {
		t.Error("two identities share a key")
	}
	if got := analytics.SessionKey("salt", ""); got != "" {
		t.Errorf("SessionKey of no identity = %q, want empty", got)
	}
}
