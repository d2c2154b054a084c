package product_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

func analyticsClient(e *env, token string) productv1connect.SearchAnalyticsServiceClient {
	if token == "" {
		return productv1connect.NewSearchAnalyticsServiceClient(http.DefaultClient, e.url)
	}
	return productv1connect.NewSearchAnalyticsServiceClient(http.DefaultClient, e.url, servetest.Bearer(token))
}

// A shopper's search, click, add-to-cart and paid order all count towards
// the search they came from; staff read the figures.
func TestSearchAnalyticsAttributesClicksCartsAndPurchases(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 12)
		startOutbox(t, e)
		ctx := context.Background()

		found, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "  Jakcet ", SessionId: "visit-1"})
		if err != nil {
			t.Fatal(err)
		}
		if found.GetSearchId() == "" || len(found.GetHits()) == 0 {
			t.Fatalf("search = %d hits, search_id %q; want hits and an id", len(found.GetHits()), found.GetSearchId())
		}
		for range 2 {
			none, err := e.customer.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "Mittens", Brand: "Northwind"})
			if err != nil || len(none.GetHits()) != 0 || none.GetSearchId() == "" || none.GetSearchId() == found.GetSearchId() {
				t.Fatalf("search for mittens = %v, %v; want no hits and a new search id", none, err)
			}
		}

		hit := found.GetHits()[0].GetProduct()
		if _, err := e.anon.GetProduct(ctx, &productv1.GetProductRequest{
			Key: &productv1.GetProductRequest_Slug{Slug: hit.GetSlug()}, SearchId: found.GetSearchId(),
		}); err != nil {
			t.Fatal(err)
		}
		sku := hit.GetVariants()[0].GetSku()
		if _, err := e.anon.LookupVariants(ctx, &productv1.LookupVariantsRequest{Skus: []string{sku}, SearchId: found.GetSearchId()}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.inventory.AdjustStock(ctx, &productv1.AdjustStockRequest{Sku: sku, Delta: 5, Reason: "restock"}); err != nil {
			t.Fatal(err)
		}
		held, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{
			Items:          []*productv1.ReservationItem{{Sku: sku, Quantity: 1, SearchId: found.GetSearchId()}},
			IdempotencyKey: "checkout-1",
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a repeated commit counts one purchase
			if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: held.GetReservation().GetId()}); err != nil {
				t.Fatal(err)
			}
		}
		e.svc.FlushAnalytics(ctx)
		e.clock.Advance(time.Second) // reports end now, exclusive
		e.clock.Advance(time.Second) // reports end now, exclusive

		staff := analyticsClient(e, staffToken)
		sum, err := staff.GetSearchSummary(ctx, &productv1.GetSearchSummaryRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want := &productv1.GetSearchSummaryResponse{
			Searches: 3, ZeroResultSearches: 2, ClickSearches: 1, AddToCartSearches: 1, PurchaseSearches: 1,
			ClickThroughRate: 1.0 / 3, ConversionRate: 1.0 / 3,
		}
		sum.StartTime, sum.EndTime = nil, nil
		if d := cmp.Diff(want, sum, protocmp.Transform()); d != "" {
			t.Errorf("summary (-want +got):\n%s", d)
		}

		top, err := staff.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, q := range top.GetQueries() {
			got = append(got, q.GetQuery())
		}
		if d := cmp.Diff([]string{"mittens", "jakcet"}, got); d != "" {
			t.Errorf("top queries (-want +got):\n%s", d)
		}
		jakcet := top.GetQueries()[1]
		if jakcet.GetClicks() != 1 || jakcet.GetAddToCarts() != 1 || jakcet.GetPurchases() != 1 || jakcet.GetConversionRate() != 1 {
			t.Errorf("figures of %q = %v; want one search clicked, carted and bought", jakcet.GetQuery(), jakcet)
		}

		zero, err := staff.ListZeroResultSearchQueries(ctx, &productv1.ListZeroResultSearchQueriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(zero.GetQueries()) != 1 || zero.GetQueries()[0].GetSuggestedSynonymWord() != "mittens" || zero.GetQueries()[0].GetSearches() != 2 {
			t.Fatalf("zero-result queries = %v; want mittens, searched twice, with a synonym suggestion", zero.GetQueries())
		}
		notBought, err := staff.ListClickedNotBoughtSearchQueries(ctx, &productv1.ListClickedNotBoughtSearchQueriesRequest{})
		if err != nil || len(notBought.GetQueries()) != 0 {
			t.Errorf("clicked, not bought = %v, %v; want none (the click led to a purchase)", notBought.GetQueries(), err)
		}

		// Acting on the suggestion: one call, and the query finds jackets.
		added, err := staff.AddSearchSynonym(ctx, &productv1.AddSearchSynonymRequest{Word: "mittens", Synonyms: []string{"Jacket"}})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"mittens, jacket"}, added.GetRules()); d != "" {
			t.Errorf("rules after AddSearchSynonym (-want +got):\n%s", d)
		}
		after, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "mittens"})
		if err != nil || len(after.GetHits()) == 0 {
			t.Errorf("search for mittens after the synonym = %v, %v; want jackets", after, err)
		}
	})
}

// Events carry no personal data: no user id, no client session id in
// clear, only salted hashes that tell sessions apart.
func TestSearchAnalyticsKeepsNoPersonalData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	startOutbox(t, e)
	ctx := context.Background()
	searches := []struct {
		client    productv1connect.ProductServiceClient
		sessionID string
	}{{e.customer, ""}, {e.customer, "ignored-when-signed-in"}, {e.anon, "visit-1"}, {e.anon, "visit-1"}, {e.anon, ""}}
	for _, s := range searches {
		if _, err := s.client.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "mug", SessionId: s.sessionID}); err != nil {
			t.Fatal(err)
		}
	}
	e.svc.FlushAnalytics(ctx)
	e.clock.Advance(time.Second) // reports end now, exclusive
	var sessions []string
	if err := e.db.NewRaw("SELECT session FROM search_queries ORDER BY at, search_id").Scan(ctx, &sessions); err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 5 {
		t.Fatalf("%d searches stored, want 5", len(sessions))
	}
	var rows []map[string]any
	if err := e.db.NewRaw("SELECT * FROM search_queries").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for col, v := range r {
			if s, ok := v.(string); ok && (strings.Contains(s, "cust-1") || strings.Contains(s, "visit-1")) {
				t.Errorf("column %s holds %q in clear", col, s)
			}
		}
	}
	counts := map[string]int{}
	for _, s := range sessions {
		counts[s]++
	}
	// The customer's two searches share a key, the visit's two another,
	// and the anonymous search without a session id has none.
	if len(counts) != 3 || counts[""] != 1 {
		t.Errorf("session keys %q: want one for the customer, one for visit-1 and an empty one", sessions)
	}
}

func TestSearchAnalyticsIsStaffOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		token string
		want  connect.Code
	}{{"anonymous", "", connect.CodeUnauthenticated}, {"customer", customerToken, connect.CodePermissionDenied}, {"service", serviceToken, connect.CodePermissionDenied}} {
		cl := analyticsClient(e, c.token)
		calls := map[string]func() error{
			"GetSearchSummary": func() error { _, err := cl.GetSearchSummary(ctx, &productv1.GetSearchSummaryRequest{}); return err },
			"ListTopSearchQueries": func() error {
				_, err := cl.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{})
				return err
			},
			"ListZeroResultSearchQueries": func() error {
				_, err := cl.ListZeroResultSearchQueries(ctx, &productv1.ListZeroResultSearchQueriesRequest{})
				return err
			},
			"ListClickedNotBoughtSearchQueries": func() error {
				_, err := cl.ListClickedNotBoughtSearchQueries(ctx, &productv1.ListClickedNotBoughtSearchQueriesRequest{})
				return err
			},
			"AddSearchSynonym": func() error {
				_, err := cl.AddSearchSynonym(ctx, &productv1.AddSearchSynonymRequest{Word: "a", Synonyms: []string{"b"}})
				return err
			},
		}
		for rpc, call := range calls {
			if got := code(call()); got != c.want {
				t.Errorf("%s as %s: %v, want %v", rpc, c.name, got, c.want)
			}
		}
	}
	// Nothing was changed by the refused AddSearchSynonym.
	rules, err := e.staff.GetSearchSynonyms(ctx, &productv1.GetSearchSynonymsRequest{})
	if err != nil || len(rules.GetRules()) != 0 {
		t.Errorf("synonyms after refused calls = %v, %v; want none", rules.GetRules(), err)
	}
}

func TestSearchAnalyticsBadInputAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	startOutbox(t, e)
	ctx := context.Background()
	for _, q := range []string{"alpha", "beta", "beta", "gamma", "gamma", "gamma"} {
		if _, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: q}); err != nil {
			t.Fatal(err)
		}
	}
	e.svc.FlushAnalytics(ctx)
	e.clock.Advance(time.Second) // reports end now, exclusive
	staff := analyticsClient(e, staffToken)

	var pages [][]string
	token := ""
	for range 5 {
		res, err := staff.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		var page []string
		for _, q := range res.GetQueries() {
			page = append(page, q.GetQuery())
		}
		pages = append(pages, page)
		if token = res.GetNextPageToken(); token == "" {
			break
		}
	}
	if d := cmp.Diff([][]string{{"gamma", "beta"}, {"alpha"}}, pages); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}

	now := time.Now()
	first, err := staff.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"start after end", func() error {
			_, err := staff.GetSearchSummary(ctx, &productv1.GetSearchSummaryRequest{
				StartTime: timestamppb.New(now), EndTime: timestamppb.New(now.Add(-time.Hour)),
			})
			return err
		}, nil},
		{"page size over 100", func() error {
			_, err := staff.ListZeroResultSearchQueries(ctx, &productv1.ListZeroResultSearchQueriesRequest{PageSize: 101})
			return err
		}, []string{"page_size"}},
		{"token of another report", func() error {
			_, err := staff.ListClickedNotBoughtSearchQueries(ctx, &productv1.ListClickedNotBoughtSearchQueriesRequest{PageToken: first.GetNextPageToken()})
			return err
		}, nil},
		{"garbage token", func() error {
			_, err := staff.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{PageToken: "%%%"})
			return err
		}, nil},
		{"synonym that is not a word", func() error {
			_, err := staff.AddSearchSynonym(ctx, &productv1.AddSearchSynonymRequest{Word: "rain coat", Synonyms: []string{"anorak"}})
			return err
		}, nil},
		{"no synonyms", func() error {
			_, err := staff.AddSearchSynonym(ctx, &productv1.AddSearchSynonymRequest{Word: "anorak"})
			return err
		}, []string{"synonyms"}},
		{"a synonym of itself only", func() error {
			_, err := staff.AddSearchSynonym(ctx, &productv1.AddSearchSynonymRequest{Word: "anorak", Synonyms: []string{"ANORAK"}})
			return err
		}, nil},
	}
	for _, b := range bad {
		err := b.call()
		if code(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", b.name, err)
			continue
		}
		if b.fields != nil {
			if d := cmp.Diff(b.fields, testkit.ViolationFields(err)); d != "" {
				t.Errorf("%s: field violations (-want +got):\n%s", b.name, d)
			}
		}
	}
}

// The pages of one search are one search: they share its id and it is
// recorded once.
func TestSearchPagesShareTheirSearchID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 12)
	startOutbox(t, e)
	ctx := context.Background()
	first, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jacket", PageSize: 2})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("first page = %v, %v; want more pages", first, err)
	}
	second, err := e.anon.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jacket", PageSize: 2, PageToken: first.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if second.GetSearchId() != first.GetSearchId() {
		t.Errorf("second page's search id %q, want the first's %q", second.GetSearchId(), first.GetSearchId())
	}
	e.svc.FlushAnalytics(ctx)
	e.clock.Advance(time.Second)
	sum, err := analyticsClient(e, staffToken).GetSearchSummary(ctx, &productv1.GetSearchSummaryRequest{})
	if err != nil || sum.GetSearches() != 1 {
		t.Errorf("searches recorded = %v, %v; want 1", sum.GetSearches(), err)
	}
}
