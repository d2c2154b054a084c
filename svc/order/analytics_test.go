package order_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/testworld"
)

// A shopper who searches, adds a hit to the cart with the search id and
// pays: the product service's search analytics count the add-to-cart and
// the purchase for that search, through the order service's own calls (the
// add-to-cart's catalog lookup, and the stock hold it commits when paid).
func TestAddToCartAndPaidOrdersCountTowardsTheirSearch(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "KETTLE", price: 2999, stock: 5}, stockItem{sku: "TEAPOT", price: 1999, stock: 5})
		me := e.customer(3)
		found, err := e.catalog.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "kettle"})
		if err != nil || found.GetSearchId() == "" {
			t.Fatalf("search = %v, %v; want a search id", found, err)
		}
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "KETTLE", Quantity: 1, SearchId: found.GetSearchId()}); err != nil {
			t.Fatal(err)
		}
		// An item added without a search counts for none.
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "TEAPOT", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		res, err := checkout(ctx, me, "analytics-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pay(ctx, me, res.GetOrder().GetId(), goodCard, "attempt-1"); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, me, res.GetOrder().GetId(), orderv1.OrderStatus_ORDER_STATUS_PAID)

		staff := productv1connect.NewSearchAnalyticsServiceClient(http.DefaultClient, e.url, testworld.As(staffToken))
		eventually(t, "the add-to-cart and purchase counted", func() error {
			top, err := staff.ListTopSearchQueries(ctx, &productv1.ListTopSearchQueriesRequest{})
			if err != nil {
				return err
			}
			if len(top.GetQueries()) != 1 {
				return fmt.Errorf("top queries %v, want kettle alone", top.GetQueries())
			}
			q := top.GetQueries()[0]
			if q.GetQuery() != "kettle" || q.GetAddToCarts() != 1 || q.GetPurchases() != 1 || q.GetConversionRate() != 1 {
				return fmt.Errorf("figures %v, want kettle added and bought once", q)
			}
			return nil
		})
	})
}
