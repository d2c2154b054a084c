package bleve_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/svc/product/search"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/search/searchtest"
)

// open makes a new index in a temporary directory, closed when t ends.
func open(t testing.TB, path string) *bleve.Index {
	t.Helper()
	idx, err := bleve.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := idx.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return idx
}

func TestContract(t *testing.T) {
	searchtest.Run(t, func(t *testing.T) search.Index {
		return open(t, t.TempDir())
	})
}

func TestReopen(t *testing.T) {
	// A path whose parents do not exist yet.
	path := filepath.Join(t.TempDir(), "data", "search", "catalog")
	idx, err := bleve.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	if err := idx.Delete(t.Context(), "j2"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	before, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if err := idx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := idx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := idx.Search(t.Context(), search.Query{Text: "jacket"}); !errors.Is(err, bleve.ErrClosed) {
		t.Errorf("Search after Close: err = %v, want ErrClosed", err)
	}

	idx = open(t, path)
	n, err := idx.Count(t.Context())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	if want := int64(len(searchtest.Catalog()) - 1); n != want {
		t.Errorf("Count after reopen = %d, want %d", n, want)
	}
	after, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
	if err != nil {
		t.Fatalf("Search after reopen: %v", err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("results differ after reopen (-before +after):\n%s", diff)
	}
	if len(after.Hits) != 5 {
		t.Errorf("got %d hits, want 5 (j1, j3, j4, j5, p1)", len(after.Hits))
	}
}

func TestOpenLocked(t *testing.T) {
	path := t.TempDir()
	open(t, path)
	start := time.Now()
	second, err := bleve.Open(path)
	if err == nil {
		_ = second.Close()
		t.Fatal("second Open of the same path succeeded, want ErrLocked")
	}
	if !errors.Is(err, bleve.ErrLocked) {
		t.Errorf("second Open: err = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("second Open took %v, want about a second", d)
	}
}

func TestOpenRefusesForeignDirectory(t *testing.T) {
	path := t.TempDir()
	if err := os.WriteFile(filepath.Join(path, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if idx, err := bleve.Open(path); err == nil {
		_ = idx.Close()
		t.Fatal("Open of a non-empty directory that holds no index succeeded, want an error")
	}
	if _, err := os.Stat(filepath.Join(path, "notes.txt")); err != nil {
		t.Errorf("Open touched the directory: %v", err)
	}
	if _, err := bleve.Open(""); err == nil {
		t.Error("Open(\"\") succeeded, want an error")
	}
}

func TestStopWordsOnly(t *testing.T) {
	idx := open(t, t.TempDir())
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	res, err := idx.Search(t.Context(), search.Query{Text: "the and of ..."})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	want := search.Result{
		Hits: []search.Hit{},
		Facets: []search.Facet{
			{Name: "category", Values: []search.FacetValue{}},
			{Name: "brand", Values: []search.FacetValue{}},
			{Name: "price", Values: []search.FacetValue{}},
		},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Search(stop words) mismatch (-want +got):\n%s", diff)
	}
}

func TestResetWhileSearching(t *testing.T) {
	idx := open(t, t.TempDir())
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*20)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				res, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
				if err != nil {
					errs <- err
					return
				}
				// Before the reset all six jackets, after it none.
				if res.Total != 6 && res.Total != 0 {
					errs <- fmt.Errorf("Total = %d, want 6 or 0", res.Total)
				}
			}
		})
	}
	if err := idx.Reset(t.Context()); err != nil {
		t.Errorf("Reset: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := idx.Count(t.Context())
	if err != nil || n != 0 {
		t.Errorf("Count after Reset = %d, %v; want 0", n, err)
	}
}

// BenchmarkSearch searches ~500 generated products with typical shopper
// queries: one word, a typo, two words with a prefix, a filter.
func BenchmarkSearch(b *testing.B) {
	idx := open(b, b.TempDir())
	if err := idx.Index(b.Context(), benchCatalog(500)...); err != nil {
		b.Fatalf("Index: %v", err)
	}
	queries := []search.Query{
		{Text: "jacket"},
		{Text: "jakcet"},
		{Text: "waterproof hiking boo"},
		{Text: "cotton hoodie", Brand: "Urbanite"},
		{Text: "leather", PriceBand: "100-200", Limit: 50},
	}
	for _, q := range queries {
		b.Run(q.Text, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := idx.Search(b.Context(), q)
				if err != nil {
					b.Fatal(err)
				}
				if res.Total == 0 {
					b.Fatalf("Search(%+v) found nothing", q)
				}
			}
		})
	}
}

// benchCatalog generates n products from a fixed seed.
func benchCatalog(n int) []search.Document {
	r := rand.New(rand.NewPCG(1, 2))
	adjectives := []string{"Waterproof", "Lightweight", "Insulated", "Classic", "Organic", "Recycled", "Merino", "Leather", "Cotton", "Trail", "Urban", "Alpine"}
	nouns := []struct{ noun, cat, name string }{
		{"Jacket", "jackets", "Jackets"}, {"Hoodie", "hoodies", "Hoodies & Sweatshirts"},
		{"Sneakers", "sneakers", "Sneakers"}, {"Boots", "boots", "Boots"},
		{"Backpack", "backpacks", "Backpacks"}, {"Tent", "camping", "Camping Gear"},
		{"Beanie", "accessories", "Accessories"}, {"Gloves", "accessories", "Accessories"},
	}
	brands := []string{"Northpeak", "Trailhead", "Urbanite", "Fjordline", "Summit", "Harbor"}
	phrases := []string{"for stormy ridges", "with a kangaroo pocket", "for muddy trails", "that packs small",
		"made to last", "in brushed cotton", "with a hiking-ready sole", "for city days"}
	docs := make([]search.Document, n)
	for i := range docs {
		adj := adjectives[r.IntN(len(adjectives))]
		nn := nouns[r.IntN(len(nouns))]
		docs[i] = search.Document{
			ID:           fmt.Sprintf("p%04d", i),
			Slug:         fmt.Sprintf("product-%04d", i),
			Title:        adj + " " + nn.noun,
			Description:  fmt.Sprintf("A %s %s %s, %s.", adj, nn.noun, phrases[r.IntN(len(phrases))], phrases[r.IntN(len(phrases))]),
			Brand:        brands[r.IntN(len(brands))],
			Category:     nn.cat,
			CategoryName: nn.name,
			Attributes:   adjectives[r.IntN(len(adjectives))] + " regular fit",
			Price:        int64(500 + r.IntN(30000)),
			InStock:      r.IntN(4) > 0,
			Created:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		}
	}
	return docs
}
