package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/product"
)

// TestMain lets the crash test run this test binary as `emporium`: a child
// started with EMPORIUM_TEST_AS_MAIN=1 is the real command, in its own
// process, so it can really die.
func TestMain(m *testing.M) {
	if os.Getenv("EMPORIUM_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is an emporium child process.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// spawn starts `emporium serve` as a child with env and waits until it is
// healthy at addr.
func spawn(t *testing.T, addr string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "EMPORIUM_TEST_AS_MAIN=1", "EMPORIUM_LISTEN="+addr)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, out: new(syncBuffer), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	waitHealthy(t, addr, p.done, "emporium serve", p.out)
	return p
}

// crashed waits for p to die on purpose (--crash-at exits with 75).
func (p *proc) crashed(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the process did not crash:\n%s", p.out)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 75 {
		t.Fatalf("exit code %d, want 75 (crash on purpose):\n%s", code, p.out)
	}
}

// TestCheckoutSurvivesCrashesBetweenSteps kills the order service between
// the saga's steps and restarts it: each time the checkout finishes or is
// compensated, stock is taken once or not at all, and nobody pays twice.
func TestCheckoutSurvivesCrashesBetweenSteps(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t, "postgres", "product", product.Migrations)
	quiet := func(string) string { return "" }
	searchDir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--database-url", dbURL, "--search-path", searchDir}, quiet, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &out)
	}
	const password = "a shopper passphrase for crash tests"
	if err := run(context.Background(), []string{"create-admin", "--database-url", dbURL, "--email", "buyer@example.com"},
		func(k string) string { return map[string]string{"EMPORIUM_PASSWORD": password}[k] }, &out, io.Discard); err != nil {
		t.Fatalf("create-admin: %v", err)
	}

	// The rest of the shop, which stays up, and the order service, which
	// dies on purpose.
	shopAddr, orderAddr := freeAddr(t), freeAddr(t)
	common := map[string]string{
		"EMPORIUM_DATABASE_URL":   dbURL,
		"EMPORIUM_INTERNAL_TOKEN": "crash-test-internal-token",
		"EMPORIUM_LOG_LEVEL":      "warn",
		"EMPORIUM_JOB_POLL":       "100ms",
		"EMPORIUM_RATE_LIMITS":    "off",
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for _, m := range []map[string]string{common, extra} {
			for k, v := range m {
				env[k] = v
			}
		}
		return env
	}
	spawn(t, shopAddr, with(map[string]string{
		"EMPORIUM_SERVICES":     "product,user,payment,shipping,edge",
		"EMPORIUM_SHIP_FROM":    `{"name":"Test Warehouse","line1":"1 Dock Rd","city":"Austin","region":"TX","postalCode":"78701","country":"US"}`,
		"EMPORIUM_SEARCH_PATH":  searchDir,
		"EMPORIUM_SIGNING_KEYS": filepath.Join(t.TempDir(), "keys.json"),
		"EMPORIUM_UPSTREAM":     "order=http://" + orderAddr,
	}))
	// window is the payment window: short where the case waits for the
	// order to expire, long where the shopper comes back after a restart,
	// which may take seconds on a loaded machine; a retry that came back
	// after its window would rightly find the order canceled.
	orderEnv := func(crashAt, window string) map[string]string {
		return with(map[string]string{
			"EMPORIUM_SERVICES":       "order",
			"EMPORIUM_JWKS_URL":       "http://" + shopAddr + "/.well-known/jwks.json",
			"EMPORIUM_UPSTREAM":       fmt.Sprintf("product=http://%[1]s;payment=http://%[1]s;shipping=http://%[1]s", shopAddr),
			"EMPORIUM_CRASH_AT":       crashAt,
			"EMPORIUM_PAYMENT_WINDOW": window,
		})
	}

	ctx := context.Background()
	base := "http://" + shopAddr
	login, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx, &authv1.LoginRequest{Email: "buyer@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	as := servetest.Bearer(login.GetTokens().GetAccessToken())
	cart := orderv1connect.NewCartServiceClient(http.DefaultClient, base, as)
	checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, base, as)
	orders := orderv1connect.NewOrderServiceClient(http.DefaultClient, base, as)
	inventory := productv1connect.NewInventoryServiceClient(http.DefaultClient, base, as)

	list, err := productv1connect.NewProductServiceClient(http.DefaultClient, base).ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 10, InStockOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, p := range list.GetProducts() {
		for _, v := range p.GetVariants() {
			if v.GetStock() >= 3 {
				skus = append(skus, v.GetSku())
				break
			}
		}
	}
	stock := func(sku string) int64 {
		t.Helper()
		res, err := inventory.GetStock(ctx, &productv1.GetStockRequest{Skus: []string{sku}})
		if err != nil {
			t.Fatal(err)
		}
		return res.GetLevels()[0].GetOnHand()
	}
	addr := &typev1.PostalAddress{Name: "Crash Tester", Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}
	order := func(key string) (*orderv1.CheckoutResponse, error) {
		return checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: addr, ShippingRateId: "local:standard", IdempotencyKey: key})
	}
	waitFor := func(id string, want orderv1.OrderStatus) *orderv1.Order {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: id})
			if err == nil && res.GetOrder().GetStatus() == want {
				return res.GetOrder()
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s: %v, %v; want %s", id, res.GetOrder().GetStatus(), err, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// routed waits until the edge's health checks see the order service.
	routed := func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := cart.GetCart(ctx, &orderv1.GetCartRequest{})
			if connect.CodeOf(err) != connect.CodeUnavailable {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the edge never routed to the order service: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	tests := []struct {
		step string
		// retry: the shopper tries again with the same key after the restart.
		retry bool
		// pay: the crash comes while paying, after checkout.
		pay  bool
		want orderv1.OrderStatus
	}{
		// The hold exists, the order does not: the retry finds the hold.
		{step: "checkout.reserved", retry: true, want: orderv1.OrderStatus_ORDER_STATUS_PAID},
		// The order exists without a payment: the retry opens one.
		{step: "checkout.order_created", retry: true, want: orderv1.OrderStatus_ORDER_STATUS_PAID},
		// Nobody comes back: the order expires and its stock returns.
		{step: "checkout.payment_created", retry: false, want: orderv1.OrderStatus_ORDER_STATUS_CANCELED},
		// The card was charged, the order not marked paid: the payment
		// service's outbox tells the restarted order service.
		{step: "pay.confirmed", pay: true, want: orderv1.OrderStatus_ORDER_STATUS_PAID},
		// The card was charged and the hold committed, the order not
		// marked paid: the outbox pays it, and its commit job finds the
		// hold committed.
		{step: "pay.committed", pay: true, want: orderv1.OrderStatus_ORDER_STATUS_PAID},
	}
	for i, tt := range tests {
		sku := skus[i]
		before := stock(sku)
		key := "crash-test-" + tt.step
		window := "2m"
		if tt.want == orderv1.OrderStatus_ORDER_STATUS_CANCELED {
			window = "3s"
		}
		var orderID string
		if tt.pay {
			proc := spawn(t, orderAddr, orderEnv(tt.step, window))
			routed()
			if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: sku, Quantity: 2}); err != nil {
				t.Fatal(err)
			}
			co, err := order(key)
			if err != nil {
				t.Fatalf("%s: checkout: %v", tt.step, err)
			}
			orderID = co.GetOrder().GetId()
			_, err = checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: orderID, PaymentMethod: "pm_card_visa", IdempotencyKey: key + "-pay"})
			if err == nil {
				t.Fatalf("%s: PayOrder succeeded; the process should have died", tt.step)
			}
			proc.crashed(t)
		} else {
			proc := spawn(t, orderAddr, orderEnv(tt.step, window))
			routed()
			if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: sku, Quantity: 2}); err != nil {
				t.Fatal(err)
			}
			if _, err := order(key); err == nil {
				t.Fatalf("%s: checkout succeeded; the process should have died", tt.step)
			}
			proc.crashed(t)
			if got := stock(sku); got != before-2 {
				t.Errorf("%s: stock while down = %d, want %d (held)", tt.step, got, before-2)
			}
		}

		restarted := spawn(t, orderAddr, orderEnv("", window))
		routed()
		if !tt.pay {
			if tt.retry {
				co, err := order(key)
				if err != nil {
					t.Fatalf("%s: retried checkout: %v", tt.step, err)
				}
				orderID = co.GetOrder().GetId()
				if _, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: orderID, PaymentMethod: "pm_card_visa", IdempotencyKey: key + "-pay"}); err != nil {
					t.Fatalf("%s: pay: %v", tt.step, err)
				}
			} else {
				mine, err := orders.ListMyOrders(ctx, &orderv1.ListMyOrdersRequest{PageSize: 1})
				if err != nil || len(mine.GetOrders()) == 0 {
					t.Fatalf("%s: the order made before the crash: %v, %v", tt.step, mine, err)
				}
				orderID = mine.GetOrders()[0].GetId()
			}
		}
		o := waitFor(orderID, tt.want)
		wantStock := before - 2
		if tt.want == orderv1.OrderStatus_ORDER_STATUS_CANCELED {
			wantStock = before
		}
		deadline := time.Now().Add(20 * time.Second)
		for stock(sku) != wantStock && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if got := stock(sku); got != wantStock {
			t.Errorf("%s: stock = %d, want %d", tt.step, got, wantStock)
		}
		mine, err := orders.ListMyOrders(ctx, &orderv1.ListMyOrdersRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(mine.GetOrders()); n != i+1 {
			t.Errorf("%s: %d orders in all, want %d: one per checkout", tt.step, n, i+1)
		}
		if o.GetPaymentId() == "" && tt.want == orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Errorf("%s: paid order without a payment", tt.step)
		}
		// Stop the order service before the next case starts its own.
		_ = restarted.cmd.Process.Signal(os.Interrupt)
		<-restarted.done
	}
}
