package product_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/search/elastic"
	"github.com/emporiumhq/emporium/svc/product/search/elastic/estest"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// esEnv is an env whose index is Elasticsearch (the loopback fake, which
// can be taken down), with the outbox worked every 50 ms once started.
func esEnv(t *testing.T, engine string) (*env, *estest.Fake) {
	t.Helper()
	fake := estest.New(t)
	idx, err := elastic.Open(t.Context(), elastic.Config{URL: fake.URL(), Grace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return newEnvWith(t, engine, product.Deps{Index: idx, JobPoll: 50 * time.Millisecond}), fake
}

// startOutbox works the service's outbox until the test ends.
func startOutbox(t *testing.T, e *env) {
	t.Helper()
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.svc.Stop(ctx)
	})
}

// searchSlugs searches and lists the slugs found, sorted.
func searchSlugs(t *testing.T, e *env, query string) ([]string, error) {
	t.Helper()
	res, err := e.anon.SearchProducts(context.Background(), &productv1.SearchProductsRequest{Query: query, PageSize: 100})
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, h := range res.GetHits() {
		out = append(out, h.GetProduct().GetSlug())
	}
	slices.Sort(out)
	return out, nil
}

// eventually polls f until it reports true or 15 s have passed.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIndexOutboxSurvivesAnIndexOutage writes to the catalog while the
// search cluster is down: each write commits with its outbox job, the index
// call after the commit fails (as if the process had crashed between the
// two), searches answer unavailable with a clear message, and once the
// cluster is back the backlog drains to exactly the database's state: the
// new product found, the archived one not brought back.
func TestIndexOutboxSurvivesAnIndexOutage(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		e, fake := esEnv(t, engine)
		seedEnv(t, e, 12)
		ctx := context.Background()
		before, err := searchSlugs(t, e, "jakcet")
		if err != nil || len(before) != 4 {
			t.Fatalf("jackets before the outage = %v, %v; want 4", before, err)
		}

		fake.SetUnreachable(true)
		_, err = e.staff.CreateProduct(ctx, &productv1.CreateProductRequest{Slug: "storm-parka", Title: "Storm Parka Jacket", Category: "jackets",
			Variants: []*productv1.Variant{{Sku: "PARKA-1", Price: usd(25000), Stock: 3}}})
		if err != nil {
			t.Fatalf("CreateProduct while the index is down: %v, want it to succeed (the database is the truth)", err)
		}
		gone := before[0]
		p, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: gone}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: p.GetProduct().GetId()}); err != nil {
			t.Fatalf("ArchiveProduct while the index is down: %v", err)
		}
		_, err = searchSlugs(t, e, "jakcet")
		if code(err) != connect.CodeUnavailable {
			t.Fatalf("SearchProducts while the index is down: %v, want unavailable", err)
		}
		if !strings.Contains(err.Error(), "search is unavailable for a moment") {
			t.Errorf("SearchProducts error %q does not say what happened", err)
		}

		fake.SetUnreachable(false)
		startOutbox(t, e)
		want := append([]string{"storm-parka"}, before[1:]...)
		slices.Sort(want)
		eventually(t, "the outbox to index the new parka and remove the archived jacket", func() bool {
			got, err := searchSlugs(t, e, "jakcet")
			return err == nil && slices.Equal(got, want)
		})
		// Replays of every job (at-least-once delivery) change nothing:
		// each one reads the product as it is now.
		if err := e.svc.Reindex(ctx, false, nil); err != nil {
			t.Fatalf("Reindex: %v", err)
		}
		if got, err := searchSlugs(t, e, "jakcet"); err != nil || !slices.Equal(got, want) {
			t.Errorf("after a reindex: %v, %v; want %v", got, err, want)
		}
	})
}

// TestEveryDocumentChangeRaisesItsVersion checks that every change of a
// product's search document reaches the index with a higher version than
// the last (stock crossing zero included), so that the index can refuse an
// older one (package elastic tests the refusal).
func TestEveryDocumentChangeRaisesItsVersion(t *testing.T) {
	t.Parallel()
	e, fake := esEnv(t, "sqlite")
	seedEnv(t, e, 3)
	startOutbox(t, e)
	ctx := context.Background()
	p, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "jackets-000"}})
	if err != nil {
		t.Fatal(err)
	}
	id := p.GetProduct().GetId()
	version := func() int64 { return fake.DocVersion(elastic.DefaultName+"-write", id) }
	last := version()
	if last < 1 {
		t.Fatalf("version after seeding = %d, want at least 1", last)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"stock arrives (out of stock → in stock)", func() error {
			_, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: "SKU-000-A", Delta: 2, Reason: "restock"})
			return err
		}},
		{"the title changes", func() error {
			_, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
				Product:    &productv1.Product{Id: id, Title: "Harbor Rain Jacket"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}},
			})
			return err
		}},
		{"the product is archived", func() error {
			_, err := e.staff.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: id})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		eventually(t, s.name+": a higher version in the index", func() bool { return version() > last })
		last = version()
	}
	if got, err := searchSlugs(t, e, "rain"); err != nil || len(got) != 0 {
		t.Errorf("the archived product is still found: %v, %v", got, err)
	}
}

// TestRenamingACategoryReindexesItsProducts re-seeds with a category
// renamed: its products' documents carry the name (facet labels, matching),
// so the rename queues them.
func TestRenamingACategoryReindexesItsProducts(t *testing.T) {
	t.Parallel()
	e, _ := esEnv(t, "sqlite")
	seedEnv(t, e, 6)
	startOutbox(t, e)
	ctx := context.Background()
	c := catalog(6)
	c.Categories[0].Name = "Coats and Anoraks"
	if _, err := e.svc.Seed(ctx, c, nil); err != nil {
		t.Fatalf("Seed with a renamed category: %v", err)
	}
	eventually(t, "the jackets to be found by their category's new name", func() bool {
		res, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "anoraks"})
		if err != nil || res.GetTotalSize() != 2 {
			return false
		}
		for _, f := range res.GetFacets() {
			if f.GetName() == "category" {
				return len(f.GetValues()) == 1 && f.GetValues()[0].GetLabel() == "Coats and Anoraks"
			}
		}
		return false
	})
}

// TestSeedSettlesTheIndexJobsOfWhatItIndexed: a bulk load indexes its
// products itself, so it leaves none of their outbox jobs behind for a
// process to redo one by one; while the index is down it keeps them all,
// and they index the products once the index is back.
func TestSeedSettlesTheIndexJobsOfWhatItIndexed(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		e, fake := esEnv(t, engine)
		pending := func() int {
			t.Helper()
			n, err := e.db.NewSelect().Table("river_job").
				Where("kind = 'product_index' AND state = 'available'").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		c := catalog(12)
		if _, err := e.svc.Seed(ctx, seed.Catalog{Categories: c.Categories, Products: c.Products[:6]}, nil); err != nil {
			t.Fatal(err)
		}
		if n := pending(); n != 0 {
			t.Errorf("%d index jobs left by a seed the index took, want 0", n)
		}

		fake.SetUnreachable(true)
		if _, err := e.svc.Seed(ctx, c, nil); err != nil {
			t.Fatalf("Seed while the index is down: %v, want it to succeed (the database is the truth)", err)
		}
		if n := pending(); n != 6 {
			t.Errorf("%d index jobs after seeding 6 products while the index is down, want 6", n)
		}
		fake.SetUnreachable(false)
		startOutbox(t, e)
		eventually(t, "the outbox to index the 6 products seeded while the index was down", func() bool {
			got, err := searchSlugs(t, e, "harbor")
			return err == nil && len(got) == 12 && pending() == 0
		})
	})
}
