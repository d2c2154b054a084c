package order_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
)

// BenchmarkCheckout is one whole purchase (AddItem, Checkout, PayOrder) by
// parallel shoppers, every service in process on PostgreSQL, as
// `go test -bench Checkout -cpuprofile` for finding where the time goes;
// the load figures with the edge are scripts/bench.sh's.
var parallelism = 8

func BenchmarkCheckout(b *testing.B) {
	e := newEnv(b, "postgres", envOptions{tax: "US-CA=7.25"})
	var skus []stockItem
	for i := range 20 {
		skus = append(skus, stockItem{sku: fmt.Sprintf("B-%02d", i), price: 1000, stock: 1_000_000})
	}
	e.seedCatalog(b, skus...)
	var n atomic.Int64
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := int(n.Add(1))
			c := e.customer(i % customers)
			if _, err := c.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: skus[i%len(skus)].sku, Quantity: 1}); err != nil {
				b.Error(err)
				return
			}
			co, err := checkout(ctx, c, fmt.Sprintf("bench-checkout-%d", i))
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := pay(ctx, c, co.GetOrder().GetId(), goodCard, fmt.Sprintf("bench-%d", i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
