package product_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

// queryCounter counts the database queries whose text contains a string.
type queryCounter struct {
	match string
	n     atomic.Int64
}

func (q *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (q *queryCounter) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.Contains(ev.Query, q.match) {
		q.n.Add(1)
	}
}

// TestCacheExpiryReadsTheDatabaseOncePerKey: when a catalog entry expires
// under 32 concurrent readers, one of them reads the database and the
// others get its answer (no stampede on the pool).
func TestCacheExpiryReadsTheDatabaseOncePerKey(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		const slug = "sneakers-001"
		reads := &queryCounter{match: slug}
		//lint:ignore SA1019 the service already holds this *bun.DB: WithQueryHook's clone would not see its queries
		e.db.AddQueryHook(reads)
		get := func() error {
			_, err := e.anon.GetProduct(context.Background(), &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: slug}})
			return err
		}
		// What one load of the product costs, in queries naming its slug.
		if err := get(); err != nil {
			t.Fatal(err)
		}
		perLoad := reads.n.Load()
		if perLoad == 0 {
			t.Fatal("a cache miss read nothing from the database: the counter does not see the product's query")
		}
		for round := range 3 {
			e.clock.Advance(2 * time.Minute) // past the test service's 1-minute TTL
			reads.n.Store(0)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, 32)
			for range 32 {
				wg.Go(func() {
					<-start
					errs <- get()
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := reads.n.Load(); got != perLoad {
				t.Errorf("round %d: 32 concurrent reads after expiry sent %d queries for the product, want %d (one load)", round, got, perLoad)
			}
		}
	})
}
