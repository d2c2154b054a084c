package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/search/elastic"
	"github.com/emporiumhq/emporium/svc/product/search/elastic/estest"
)

// TestSeedAndReindexOnElasticsearch runs `seed` and `reindex` with
// --search-url (against the loopback fake): seed fills the index behind the
// aliases, reindex builds a new index with a progress bar and swaps it in,
// and the old index is gone when the command ends.
func TestSeedAndReindexOnElasticsearch(t *testing.T) {
	t.Parallel()
	fake := estest.New(t)
	dbURL := dbtest.URL(t, "sqlite", "product", product.Migrations)
	quiet := func(string) string { return "" }
	args := []string{"--database-url", dbURL, "--search-url", fake.URL(), "--search-index", "shop"}
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"seed"}, args...), quiet, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "Created 520 products") {
		t.Fatalf("seed output: %s", &out)
	}
	before := fake.Indexes("shop-idx-")
	if len(before) != 1 {
		t.Fatalf("indexes after seed = %v, want one", before)
	}

	out.Reset()
	if err := run(context.Background(), append([]string{"reindex"}, args...), quiet, &out, io.Discard); err != nil {
		t.Fatalf("reindex: %v\n%s", err, &out)
	}
	for _, want := range []string{"indexed [████████████████████] 100% 520/520", "Done."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("reindex output lacks %q:\n%s", want, &out)
		}
	}
	after := fake.Indexes("shop-idx-")
	if len(after) != 1 || slices.Equal(after, before) {
		t.Errorf("indexes after reindex = %v (before %v), want one new index", after, before)
	}

	idx, err := elastic.Open(t.Context(), elastic.Config{URL: fake.URL(), Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	n, err := idx.Count(t.Context())
	if err != nil || n != 520 {
		t.Errorf("documents behind the read alias = %d, %v; want 520", n, err)
	}
}

// TestServeKeepsSearchAnalyticsInElasticsearch runs the product service
// with --search-url and no --search-analytics (auto): a search and a click
// on one of its results land in the cluster's analytics index, not in the
// product database.
func TestServeKeepsSearchAnalyticsInElasticsearch(t *testing.T) {
	t.Parallel()
	fake := estest.New(t)
	dbURL := dbtest.URL(t, "sqlite", "product", product.Migrations)
	quiet := func(string) string { return "" }
	args := []string{"--database-url", dbURL, "--search-url", fake.URL(), "--search-index", "shop"}
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"seed"}, args...), quiet, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &out)
	}
	addr := freeAddr(t)
	start(t, addr, map[string]string{
		"EMPORIUM_SERVICES": "product", "EMPORIUM_LISTEN": addr, "EMPORIUM_DATABASE_URL": dbURL,
		"EMPORIUM_SEARCH_URL": fake.URL(), "EMPORIUM_SEARCH_INDEX": "shop",
		"EMPORIUM_INTERNAL_TOKEN": "internal-secret-for-tests", "EMPORIUM_JWKS_URL": "http://127.0.0.1:1/.well-known/jwks.json",
		"EMPORIUM_LOG_LEVEL": "warn",
	}, "serve")
	client := productv1connect.NewProductServiceClient(http.DefaultClient, "http://"+addr)
	res, err := client.SearchProducts(t.Context(), &productv1.SearchProductsRequest{Query: "jacket", PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetSearchId() == "" || len(res.GetHits()) == 0 {
		t.Fatalf("search answered no search id or no products: %v", res)
	}
	if _, err := client.GetProduct(t.Context(), &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: res.GetHits()[0].GetProduct().GetId()}, SearchId: res.GetSearchId()}); err != nil {
		t.Fatal(err)
	}
	// The recorder writes in batches, at least every second: the search
	// makes the document (version 1), the click updates it (version 2).
	deadline := time.Now().Add(15 * time.Second)
	for fake.DocVersion("shop-analytics", res.GetSearchId()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the search and its click are not in shop-analytics (document version %d)", fake.DocVersion("shop-analytics", res.GetSearchId()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeRebuildsALostBleveIndex removes the index that `seed` built and
// starts the product service on the same data: it serves at once and
// rebuilds the index from the database in the background, as it does for
// an index an older version built with another mapping.
func TestServeRebuildsALostBleveIndex(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t, "sqlite", "product", product.Migrations)
	searchDir := t.TempDir()
	quiet := func(string) string { return "" }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--database-url", dbURL, "--search-path", searchDir}, quiet, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &out)
	}
	if err := os.RemoveAll(filepath.Join(searchDir, "products.bleve")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logs := start(t, addr, map[string]string{
		"EMPORIUM_SERVICES": "product", "EMPORIUM_LISTEN": addr, "EMPORIUM_DATABASE_URL": dbURL,
		"EMPORIUM_SEARCH_PATH":    searchDir,
		"EMPORIUM_INTERNAL_TOKEN": "internal-secret-for-tests", "EMPORIUM_JWKS_URL": "http://127.0.0.1:1/.well-known/jwks.json",
	}, "serve")
	client := productv1connect.NewProductServiceClient(http.DefaultClient, "http://"+addr)
	list, err := client.ListProducts(t.Context(), &productv1.ListProductsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	title := list.GetProducts()[0].GetTitle()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := client.SearchProducts(t.Context(), &productv1.SearchProductsRequest{Query: title, PageSize: 5})
		if err == nil && len(res.GetHits()) > 0 && res.GetHits()[0].GetProduct().GetTitle() == title {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("searching %q after the restart: %v, %v; want it found once the index is rebuilt\n%s", title, res, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "search index rebuilt") {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say the index was rebuilt:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "not in line with the database") {
		t.Errorf("the log does not say why the index is rebuilt:\n%s", logs)
	}
}
