package elastic_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/svc/product/search"
	"github.com/emporiumhq/emporium/svc/product/search/elastic"
	"github.com/emporiumhq/emporium/svc/product/search/elastic/estest"
	"github.com/emporiumhq/emporium/svc/product/search/searchtest"
)

// cluster is where a test's index lives: the real cluster at
// ELASTICSEARCH_URL when set, else a new loopback fake.
func cluster(t *testing.T) (url string, fake *estest.Fake) {
	t.Helper()
	if u := os.Getenv("ELASTICSEARCH_URL"); u != "" {
		return u, nil
	}
	f := estest.New(t)
	return f.URL(), f
}

// uniqueName names a test's aliases, template and indexes, so that tests
// can share a real cluster.
func uniqueName(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "emporium-test-" + hex.EncodeToString(b)
}

// open opens an adapter on a fresh name, closed when t ends.
func open(t *testing.T, url string, cfg elastic.Config) *elastic.Index {
	t.Helper()
	cfg.URL = url
	if cfg.Name == "" {
		cfg.Name = uniqueName(t)
	}
	if cfg.Grace == 0 {
		cfg.Grace = time.Millisecond
	}
	idx, err := elastic.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
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
		url, _ := cluster(t)
		return open(t, url, elastic.Config{})
	})
}

// fakeOnly gives a test that injects failures a fake of its own, even when
// ELASTICSEARCH_URL is set: a real cluster cannot be made to fail on cue.
func fakeOnly(t *testing.T) *estest.Fake {
	t.Helper()
	return estest.New(t)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	idx := open(t, f.URL(), elastic.Config{})
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	f.SetUnreachable(true)
	_, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
	if !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Search on a cluster that is down: err = %v, want ErrUnavailable", err)
	}
	if err := idx.Index(t.Context(), searchtest.Catalog()[0]); !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Index on a cluster that is down: err = %v, want ErrUnavailable", err)
	}
	if _, err := idx.Count(t.Context()); !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Count on a cluster that is down: err = %v, want ErrUnavailable", err)
	}
	f.SetUnreachable(false)
	res, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
	if err != nil {
		t.Fatalf("Search once the cluster is back: %v", err)
	}
	if res.Total != 6 {
		t.Errorf("Total = %d, want 6", res.Total)
	}
}

func TestOpenWhileUnreachable(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	f.SetUnreachable(true)
	idx, err := elastic.Open(t.Context(), elastic.Config{URL: f.URL(), Name: uniqueName(t)})
	if err != nil {
		t.Fatalf("Open while the cluster is down: %v, want an index that waits for it", err)
	}
	t.Cleanup(func() { idx.Close() })
	if _, err := idx.Search(t.Context(), search.Query{Text: "jacket"}); !errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Search before the cluster is back: err = %v, want ErrUnavailable", err)
	}
	f.SetUnreachable(false)
	time.Sleep(time.Second) // set-up attempts are at most once a second
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index once the cluster is back: %v", err)
	}
	res, err := idx.Search(t.Context(), search.Query{Text: "jakcet"})
	if err != nil || res.Total != 6 {
		t.Errorf("Search once the cluster is back = %d, %v; want 6", res.Total, err)
	}
}

func TestBackpressure(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	idx := open(t, f.URL(), elastic.Config{})
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	t.Run("a 429 is retried", func(t *testing.T) {
		f.FailNext(http.StatusTooManyRequests)
		if _, err := idx.Search(t.Context(), search.Query{Text: "jacket"}); err != nil {
			t.Errorf("Search after one 429: %v, want the client's retry to succeed", err)
		}
	})
	t.Run("429 after every retry is unavailable", func(t *testing.T) {
		f.FailNext(429, 429, 429, 429)
		_, err := idx.Search(t.Context(), search.Query{Text: "jacket"})
		if !errors.Is(err, search.ErrUnavailable) {
			t.Errorf("Search: err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("503 is unavailable", func(t *testing.T) {
		f.FailNext(503, 503, 503, 503)
		err := idx.Index(t.Context(), searchtest.Catalog()[0])
		if !errors.Is(err, search.ErrUnavailable) {
			t.Errorf("Index: err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("bulk items rejected with 429", func(t *testing.T) {
		f.RejectBulkItems(1)
		a, b := searchtest.Catalog()[0], searchtest.Catalog()[1]
		a.Title, b.Title = "Quokka Anorak", "Quokka Parka"
		err := idx.Index(t.Context(), a, b)
		if !errors.Is(err, search.ErrUnavailable) {
			t.Fatalf("Index with a rejected item: err = %v, want ErrUnavailable", err)
		}
		// The other item went in: a bulk request is not atomic.
		res, _ := idx.Search(t.Context(), search.Query{Text: "quokka"})
		if res.Total != 1 {
			t.Errorf("after the partial failure Total = %d, want 1", res.Total)
		}
		// Retrying the whole batch is safe.
		if err := idx.Index(t.Context(), a, b); err != nil {
			t.Fatalf("Index again: %v", err)
		}
		res, err = idx.Search(t.Context(), search.Query{Text: "quokka"})
		if err != nil || res.Total != 2 {
			t.Errorf("after the retry: Total = %d, %v; want 2", res.Total, err)
		}
	})
}

func TestNotElasticsearch(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count": 0}`))
	}))
	t.Cleanup(srv.Close)
	_, err := elastic.Open(t.Context(), elastic.Config{URL: srv.URL, Name: uniqueName(t)})
	if err == nil || errors.Is(err, search.ErrUnavailable) {
		t.Errorf("Open of a server that is not Elasticsearch: err = %v, want a configuration error", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []elastic.Config{
		{},
		{URL: "es:9200"},
		{URL: "ftp://es:9200"},
		{URL: "http://es:9200", Name: "Emporium"},
		{URL: "http://es:9200", Name: "a,b"},
	} {
		if _, err := elastic.Open(t.Context(), cfg); err == nil {
			t.Errorf("Open(%+v) succeeded, want an error", cfg)
		}
	}
	if _, err := elastic.Open(t.Context(), elastic.Config{URL: "ftp://elastic:s3cret@es:9200/"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a bad URL with a password: err = %v, want an error without the password", err)
	}
	idx, err := elastic.Open(t.Context(), elastic.Config{URL: "http://elastic:s3cret@127.0.0.1:1/", Name: uniqueName(t)})
	if err != nil {
		t.Fatalf("Open of an unreachable cluster: %v", err)
	}
	defer idx.Close()
	_, err = idx.Search(t.Context(), search.Query{Text: "jacket"})
	if !errors.Is(err, search.ErrUnavailable) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Search on an unreachable cluster: err = %v, want ErrUnavailable without the password", err)
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	url, _ := cluster(t)
	idx := open(t, url, elastic.Config{})
	doc := searchtest.Catalog()[0]
	doc.Version, doc.Title = 5, "Alpine Shell Jacket"
	if err := idx.Index(t.Context(), doc); err != nil {
		t.Fatalf("Index v5: %v", err)
	}
	old := doc
	old.Version, old.Title = 4, "Obsolete Anorak"
	if err := idx.Index(t.Context(), old); err != nil {
		t.Fatalf("Index of an older version: %v, want it skipped without error", err)
	}
	if res, _ := idx.Search(t.Context(), search.Query{Text: "anorak"}); res.Total != 0 {
		t.Errorf("an older version overwrote a newer one: found %d", res.Total)
	}
	if err := idx.DeleteVersions(t.Context(), search.Deletion{ID: doc.ID, Version: 6}); err != nil {
		t.Fatalf("DeleteVersions v6: %v", err)
	}
	doc.Version = 5 // a replay of the update before the delete
	if err := idx.Index(t.Context(), doc); err != nil {
		t.Fatalf("replay of v5: %v", err)
	}
	if n, err := idx.Count(t.Context()); err != nil || n != 0 {
		t.Errorf("after a replay of an update older than the delete: Count = %d, %v; want 0", n, err)
	}
	doc.Version = 7
	if err := idx.Index(t.Context(), doc); err != nil {
		t.Fatalf("Index v7: %v", err)
	}
	if res, _ := idx.Search(t.Context(), search.Query{Text: "alpine"}); res.Total != 1 {
		t.Errorf("a newer version after the delete: found %d, want 1", res.Total)
	}
	// A stale delete leaves the newer document.
	if err := idx.DeleteVersions(t.Context(), search.Deletion{ID: doc.ID, Version: 6}); err != nil {
		t.Fatalf("stale DeleteVersions: %v", err)
	}
	if n, _ := idx.Count(t.Context()); n != 1 {
		t.Errorf("a stale delete removed a newer document: Count = %d", n)
	}
}

func TestSharedByReplicas(t *testing.T) {
	t.Parallel()
	url, _ := cluster(t)
	name := uniqueName(t)
	a := open(t, url, elastic.Config{Name: name})
	b := open(t, url, elastic.Config{Name: name})
	if err := a.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index through a: %v", err)
	}
	res, err := b.Search(t.Context(), search.Query{Text: "jakcet"})
	if err != nil || res.Total != 6 {
		t.Errorf("Search through b = %d, %v; want the 6 jackets a indexed", res.Total, err)
	}
}

func TestRebuild(t *testing.T) {
	t.Parallel()
	url, f := cluster(t)
	name := uniqueName(t)
	idx := open(t, url, elastic.Config{Name: name, Grace: time.Hour})
	if err := idx.Index(t.Context(), searchtest.Catalog()...); err != nil {
		t.Fatalf("Index: %v", err)
	}
	full := int64(len(searchtest.Catalog()))

	t.Run("searches see the old index until the swap", func(t *testing.T) {
		err := idx.Rebuild(t.Context(), func(put func(...search.Document) error) error {
			if err := put(searchtest.Catalog()[:10]...); err != nil {
				return err
			}
			if n, err := idx.Count(t.Context()); err != nil || n != full {
				t.Errorf("Count during the build = %d, %v; want the old %d", n, err, full)
			}
			return put(searchtest.Catalog()[10:20]...)
		})
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		if n, err := idx.Count(t.Context()); err != nil || n != 20 {
			t.Errorf("Count after the swap = %d, %v; want 20", n, err)
		}
		// The lanterns (c1, c3) were not in the rebuild.
		if res, err := idx.Search(t.Context(), search.Query{Text: "lantern"}); err != nil || res.Total != 0 {
			t.Errorf("Search(lantern) after the swap = %d, %v; want 0", res.Total, err)
		}
		if f != nil {
			if got := f.Indexes(name); len(got) != 2 {
				t.Errorf("indexes during the grace period = %v, want the old and the new", got)
			}
		}
	})
	t.Run("updates go to the current index after a failed build", func(t *testing.T) {
		_ = idx.Rebuild(t.Context(), func(func(...search.Document) error) error { return errors.New("stop") })
		d := searchtest.Catalog()[25]
		d.Title = "Wombat Stove"
		if err := idx.Index(t.Context(), d); err != nil {
			t.Fatalf("Index: %v", err)
		}
		if res, err := idx.Search(t.Context(), search.Query{Text: "wombat"}); err != nil || res.Total != 1 {
			t.Errorf("Search(wombat) = %d, %v; want the update", res.Total, err)
		}
		if err := idx.Delete(t.Context(), d.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	})
	t.Run("an update during the build is neither lost nor undone by the fill", func(t *testing.T) {
		err := idx.Rebuild(t.Context(), func(put func(...search.Document) error) error {
			docs := searchtest.Catalog()[:20]
			for i := range docs {
				docs[i].Version = 9
			}
			// The product changes while the build runs, after the build
			// read it at version 9.
			newer := searchtest.Catalog()[0]
			newer.Title, newer.Version = "Quokka Shell Jacket", 10
			if err := idx.Index(t.Context(), newer); err != nil {
				return err
			}
			return put(docs...)
		})
		if err != nil {
			t.Fatalf("Rebuild: %v", err)
		}
		res, err := idx.Search(t.Context(), search.Query{Text: "quokka"})
		if err != nil || res.Total != 1 {
			t.Errorf("Search(quokka) after the rebuild = %d, %v; want the update made during it", res.Total, err)
		}
		if n, err := idx.Count(t.Context()); err != nil || n != 20 {
			t.Errorf("Count = %d, %v; want 20", n, err)
		}
	})
	t.Run("a failed build leaves the index as it was, with the updates made meanwhile", func(t *testing.T) {
		boom := errors.New("database gone")
		err := idx.Rebuild(t.Context(), func(put func(...search.Document) error) error {
			docs := searchtest.Catalog()[:3]
			for i := range docs {
				docs[i].Version = 9
			}
			if err := put(docs...); err != nil {
				return err
			}
			// Updates during the build: a change to a product and a new one.
			changed := searchtest.Catalog()[1]
			changed.Title, changed.Version = "Platypus Puffer", 12
			added := searchtest.Catalog()[21]
			added.ID, added.Title, added.Version = "n1", "Platypus Lamp", 1
			if err := idx.Index(t.Context(), changed, added); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Rebuild: err = %v, want the fill's error", err)
		}
		if n, err := idx.Count(t.Context()); err != nil || n != 21 {
			t.Errorf("Count after a failed rebuild = %d, %v; want 20 + the product added during it", n, err)
		}
		res, err := idx.Search(t.Context(), search.Query{Text: "platypus"})
		if err != nil || res.Total != 2 {
			t.Errorf("Search(platypus) after a failed rebuild = %d, %v; want both updates made during it", res.Total, err)
		}
		// The fill's older copies did not overwrite anything.
		if res, _ := idx.Search(t.Context(), search.Query{Text: "quokka"}); res.Total != 1 {
			t.Errorf("Search(quokka) = %d, want the earlier update kept", res.Total)
		}
		if err := idx.Delete(t.Context(), "n1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a document the mapping refuses fails the build", func(t *testing.T) {
		if f == nil {
			t.Skip("the fake stands in for a cluster's rejection")
		}
		f.RejectBulkItems(1)
		err := idx.Rebuild(t.Context(), func(put func(...search.Document) error) error {
			docs := searchtest.Catalog()[:20]
			for i := range docs {
				docs[i].Version = 9
			}
			return put(docs...)
		})
		if err == nil {
			t.Fatal("Rebuild with a rejected document succeeded, want an error")
		}
		if n, _ := idx.Count(t.Context()); n != 20 {
			t.Errorf("Count after a failed rebuild = %d, want 20", n)
		}
	})
	if err := idx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if f != nil {
		if got := f.Indexes(name); len(got) != 1 {
			t.Errorf("indexes after Close = %v, want only the current one (old ones dropped)", got)
		}
	}
}

func TestOpenWarnsAboutAnIndexBuiltWithAnotherMapping(t *testing.T) {
	t.Parallel()
	f := fakeOnly(t)
	name := uniqueName(t)
	var logs testkit.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	open(t, f.URL(), elastic.Config{Name: name, Log: log})
	if strings.Contains(logs.String(), "reindex") {
		t.Fatalf("a fresh index was warned about: %s", logs.String())
	}
	f.SetMappingMeta(name, map[string]any{"mapping": "emporium-catalog-v0"})
	open(t, f.URL(), elastic.Config{Name: name, Log: log})
	if !strings.Contains(logs.String(), "run `emporium reindex`") || !strings.Contains(logs.String(), "emporium-catalog-v0") {
		t.Errorf("Open of an index built with another mapping logged:\n%s\nwant a warning to reindex", logs.String())
	}
}
