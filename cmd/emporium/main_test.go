package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	auditv1 "github.com/emporiumhq/emporium/gen/emporium/audit/v1"
	"github.com/emporiumhq/emporium/gen/emporium/audit/v1/auditv1connect"
	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/product"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `emporium args…` in-process until the test ends and waits for
// /healthz at addr.
func start(t *testing.T, addr string, env map[string]string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := new(syncBuffer)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(ctx, args, func(k string) string { return env[k] }, out, out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("emporium %s: %v\n%s", args[0], runErr, out)
		}
	})
	waitHealthy(t, addr, done, "emporium "+args[0], out)
	return out
}

// waitHealthy waits until GET /healthz at addr answers 200; it fails the
// test when done closes first (the server exited) or after a minute.
func waitHealthy(t *testing.T, addr string, done <-chan struct{}, name string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited early:\n%s", name, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s:\n%s", name, addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// h2c is an HTTP/2-without-TLS client, as gRPC clients use.
func h2c() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}}
}

// protocolClients are ProductService clients for every protocol the edge
// speaks.
func protocolClients(base string) map[string]productv1connect.ProductServiceClient {
	return map[string]productv1connect.ProductServiceClient{
		"connect+json": productv1connect.NewProductServiceClient(http.DefaultClient, base, connect.WithProtoJSON()),
		"connect+h2c":  productv1connect.NewProductServiceClient(h2c(), base),
		"grpc":         productv1connect.NewProductServiceClient(h2c(), base, connect.WithGRPC()),
		"grpc-web":     productv1connect.NewProductServiceClient(http.DefaultClient, base, connect.WithGRPCWeb()),
	}
}

func TestDevServesTheSeededShopOverEveryProtocol(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dataDir := t.TempDir()
	out := start(t, addr, nil, "dev", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	for _, want := range []string{"Seeded 520 products", "Emporium dev is running", "Admin login:   admin@example.com / shop-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dev output lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	for name, client := range protocolClients("http://" + addr) {
		t.Run(name, func(t *testing.T) {
			cats, err := client.ListCategories(ctx, &productv1.ListCategoriesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, c := range cats.GetCategories() {
				total += c.GetProductCount()
			}
			if len(cats.GetCategories()) != 20 || total != 520 {
				t.Errorf("%d categories holding %d products, want 20 and 520", len(cats.GetCategories()), total)
			}
			res, err := client.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jakcet"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetHits()) == 0 || !strings.Contains(strings.ToLower(res.GetHits()[0].GetProduct().GetTitle()), "jacket") {
				t.Errorf("search with a typo: first hit %v, want a jacket", res.GetHits())
			}
			_, err = client.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 101})
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("page_size 101: %v, want invalid_argument", err)
			}
		})
	}

	// A placeholder image of a seeded product is served locally.
	list, err := productv1connect.NewProductServiceClient(http.DefaultClient, "http://"+addr).
		ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	img, err := http.Get("http://" + addr + list.GetProducts()[0].GetImages()[0].GetUrl())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(img.Body)
	img.Body.Close()
	if img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(body, []byte("<svg")) {
		t.Errorf("image: %d %s %.60q", img.StatusCode, img.Header.Get("Content-Type"), body)
	}

	// The admin login printed in the banner (and kept in the data dir) works,
	// and its token is what staff methods need.
	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "admin@example.com / "+strings.TrimSpace(string(password))) {
		t.Errorf("banner does not show the admin login")
	}
	base := "http://" + addr
	login, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx,
		&authv1.LoginRequest{Email: "admin@example.com", Password: strings.TrimSpace(string(password))})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	sku := list.GetProducts()[0].GetVariants()[0].GetSku()
	restock := &productv1.AdjustStockRequest{Sku: sku, Delta: 3, Reason: "restock"}
	if _, err := productv1connect.NewInventoryServiceClient(http.DefaultClient, base).AdjustStock(ctx, restock); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("AdjustStock without a token: %v, want unauthenticated", err)
	}
	if _, err := productv1connect.NewInventoryServiceClient(http.DefaultClient, base,
		servetest.Bearer(login.GetTokens().GetAccessToken())).AdjustStock(ctx, restock); err != nil {
		t.Errorf("AdjustStock as the dev admin: %v", err)
	}

	// A shopper registers; the verification message lands in the dev
	// mailbox once the notification service's job has delivered it.
	if _, err := userv1connect.NewUserServiceClient(http.DefaultClient, base).Register(ctx,
		&userv1.RegisterRequest{Email: "shopper@example.com", Password: "a long enough passphrase"}); err != nil {
		t.Fatalf("register: %v", err)
	}
	var mail []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(base + "/dev/mailbox?format=json")
		if err != nil {
			t.Fatal(err)
		}
		mail, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && bytes.Contains(mail, []byte("shopper@example.com")) && bytes.Contains(mail, []byte("/verify-email?token=")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox: %d %.300s", res.StatusCode, mail)
		}
	}
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(jwks, []byte(`"kty":"OKP"`)) {
		t.Errorf("JWKS: %d %s", res.StatusCode, jwks)
	}

	// The landing page and request ids.
	res, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte("Emporium")) || res.Header.Get("X-Request-Id") == "" {
		t.Errorf("GET / = %d, request id %q", res.StatusCode, res.Header.Get("X-Request-Id"))
	}
}

func TestServeEachServiceAsItsOwnProcessBehindAnEdge(t *testing.T) {
	t.Parallel()
	// One PostgreSQL database, a schema per service, as in production.
	dbURL := dbtest.URL(t, "postgres", "product", product.Migrations)
	dir := t.TempDir()
	quiet := func(string) string { return "" }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--database-url", dbURL, "--search-path", dir}, quiet, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "Created 520 products") {
		t.Errorf("seed output: %s", &out)
	}
	const adminPassword = "an admin passphrase for tests"
	out.Reset()
	if err := run(context.Background(), []string{"create-admin", "--database-url", dbURL, "--email", "boss@example.com"},
		func(k string) string { return map[string]string{"EMPORIUM_PASSWORD": adminPassword}[k] }, &out, io.Discard); err != nil {
		t.Fatalf("create-admin: %v", err)
	}
	productAddr, userAddr, commerceAddr, edgeAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	shared := map[string]string{
		"EMPORIUM_DATABASE_URL":   dbURL,
		"EMPORIUM_INTERNAL_TOKEN": "internal-secret-for-tests",
		"EMPORIUM_JWKS_URL":       "http://" + edgeAddr + "/.well-known/jwks.json",
		"EMPORIUM_LOG_LEVEL":      "warn",
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range shared {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	// Configuration through the environment, as in a container.
	// The product process shares the edge's Redis, for revocations.
	start(t, productAddr, with(map[string]string{"EMPORIUM_SERVICES": "product", "EMPORIUM_LISTEN": productAddr, "EMPORIUM_SEARCH_PATH": dir,
		"EMPORIUM_REDIS_URL": redisURL(t)}), "serve")
	start(t, userAddr, with(map[string]string{"EMPORIUM_SERVICES": "user", "EMPORIUM_LISTEN": userAddr}), "serve")
	// Order, payment and shipping share a process; order reaches the
	// catalog in another.
	start(t, commerceAddr, with(map[string]string{
		"EMPORIUM_SERVICES": "order,payment,shipping", "EMPORIUM_LISTEN": commerceAddr,
		"EMPORIUM_SHIP_FROM": `{"name":"Test Warehouse","line1":"1 Dock Rd","city":"Austin","region":"TX","postalCode":"78701","country":"US"}`,
		"EMPORIUM_UPSTREAM":  "product=http://" + productAddr,
	}), "serve")
	commerce := "http://" + commerceAddr
	start(t, edgeAddr, with(map[string]string{
		"EMPORIUM_SERVICES": "edge", "EMPORIUM_LISTEN": edgeAddr,
		"EMPORIUM_SIGNING_KEYS": filepath.Join(t.TempDir(), "keys.json"),
		"EMPORIUM_UPSTREAM": fmt.Sprintf("product=http://%s;user=http://%s;order=%s;payment=%s;shipping=%s",
			productAddr, userAddr, commerce, commerce, commerce),
		"EMPORIUM_REDIS_URL":    redisURL(t),
		"EMPORIUM_CORS_ORIGINS": "https://shop.example.com",
	}), "serve")

	ctx := context.Background()
	base := "http://" + edgeAddr
	for name, client := range protocolClients(base) {
		t.Run(name, func(t *testing.T) {
			res, err := client.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 3, Category: "jackets"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetProducts()) != 3 || res.GetNextPageToken() == "" {
				t.Errorf("got %d products, next %q", len(res.GetProducts()), res.GetNextPageToken())
			}
			_, err = client.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "no-such-thing"}})
			if connect.CodeOf(err) != connect.CodeNotFound {
				t.Errorf("unknown slug through the edge: %v, want not_found", err)
			}
		})
	}

	// Sign-in crosses three processes: the edge checks the password with the
	// user service, and the product service verifies the edge's token itself.
	login, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx,
		&authv1.LoginRequest{Email: "boss@example.com", Password: adminPassword})
	if err != nil {
		t.Fatalf("admin login through the edge: %v", err)
	}
	asAdmin := servetest.Bearer(login.GetTokens().GetAccessToken())
	list, err := productv1connect.NewProductServiceClient(http.DefaultClient, base).ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	restock := &productv1.AdjustStockRequest{Sku: list.GetProducts()[0].GetVariants()[0].GetSku(), Delta: 2, Reason: "restock"}
	if _, err := productv1connect.NewInventoryServiceClient(http.DefaultClient, base, asAdmin).AdjustStock(ctx, restock); err != nil {
		t.Errorf("AdjustStock as admin: %v", err)
	}
	// The edge routes each service's audit log to the process that runs it:
	// the admin's AdjustStock is in the product process's log, under the
	// admin's user id; order's log, in the commerce process, is empty.
	productLog, err := auditv1connect.NewAuditServiceClient(http.DefaultClient, base+"/audit/product", asAdmin).
		ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{})
	if err != nil || len(productLog.GetEntries()) != 1 {
		t.Fatalf("product's audit log through the edge = %v, %v; want the one AdjustStock", productLog, err)
	}
	if e := productLog.GetEntries()[0]; e.GetActor() != login.GetTokens().GetUserId() || e.GetProcedure() != productv1connect.InventoryServiceAdjustStockProcedure ||
		e.GetTargetId() != restock.GetSku() || e.GetCode() != "ok" || e.GetService() != "product" {
		t.Errorf("the AdjustStock entry = %v, want the admin's successful AdjustStock of %s", e, restock.GetSku())
	}
	if orderLog, err := auditv1connect.NewAuditServiceClient(http.DefaultClient, base+"/audit/order", asAdmin).
		ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{}); err != nil || len(orderLog.GetEntries()) != 0 {
		t.Errorf("order's audit log through the edge = %v, %v; want empty", orderLog, err)
	}
	out.Reset()
	if err := run(ctx, []string{"audit", "verify", "--database-url", dbURL}, quiet, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "product: 1 entry, chain intact") || !strings.Contains(out.String(), "order: 0 entries, chain intact") {
		t.Errorf("audit verify: %v\n%s", err, &out)
	}
	// A request that bypasses the edge gets nothing without a valid token.
	direct := productv1connect.NewInventoryServiceClient(http.DefaultClient, "http://"+productAddr, servetest.Bearer("forged.token.value"))
	if _, err := direct.AdjustStock(ctx, restock); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("forged token straight at the product service: %v, want unauthenticated", err)
	}
	users := userv1connect.NewUserServiceClient(http.DefaultClient, base, asAdmin)
	if res, err := users.ListUsers(ctx, &userv1.ListUsersRequest{}); err != nil || len(res.GetUsers()) != 1 {
		t.Errorf("ListUsers as admin = %v, %v", res, err)
	}

	// A purchase crosses every process: cart and checkout in the commerce
	// process, stock and prices in the product process, through the edge.
	sku := restock.GetSku()
	cart := orderv1connect.NewCartServiceClient(http.DefaultClient, base, asAdmin)
	if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: sku, Quantity: 1}); err != nil {
		t.Fatalf("AddItem through the edge: %v", err)
	}
	checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, base, asAdmin)
	addr := &typev1.PostalAddress{Name: "Boss", Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}
	co, err := checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: addr, ShippingRateId: "local:standard", IdempotencyKey: "serve-test-checkout"})
	if err != nil {
		t.Fatalf("Checkout through the edge: %v", err)
	}
	// The card goes to the simulator's tokenization endpoint, as it would to
	// Stripe.js; PayOrder takes only the id, and refuses card digits.
	payCfg, err := paymentv1connect.NewPaymentServiceClient(http.DefaultClient, base).GetPaymentConfig(ctx, &paymentv1.GetPaymentConfigRequest{})
	if err != nil || payCfg.GetProvider() != "simulator" || payCfg.GetTokenizePath() == "" {
		t.Fatalf("GetPaymentConfig through the edge = %v, %v", payCfg, err)
	}
	tok, err := http.PostForm(base+payCfg.GetTokenizePath(), url.Values{"type": {"card"}, "card[number]": {"4242424242424242"}})
	if err != nil {
		t.Fatal(err)
	}
	var pm struct{ ID string }
	if err := json.NewDecoder(tok.Body).Decode(&pm); err != nil || tok.StatusCode != http.StatusOK || !strings.HasPrefix(pm.ID, "pm_sim_") {
		t.Fatalf("tokenizing a test card through the edge: %d, %+v, %v", tok.StatusCode, pm, err)
	}
	tok.Body.Close()
	_, err = checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: co.GetOrder().GetId(), PaymentMethod: "4242 4242 4242 4242", IdempotencyKey: "serve-test-digits"})
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "send a payment method token, not card details") {
		t.Errorf("PayOrder with card digits: %v, want invalid_argument", err)
	}
	paid, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: co.GetOrder().GetId(), PaymentMethod: pm.ID, IdempotencyKey: "serve-test-payment"})
	if err != nil || paid.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
		t.Fatalf("PayOrder through the edge = %v, %v; want paid", paid, err)
	}
	internalOnly := paymentv1connect.NewPaymentServiceClient(http.DefaultClient, base, asAdmin)
	if _, err := internalOnly.RefundPayment(ctx, &paymentv1.RefundPaymentRequest{PaymentId: co.GetPayment().GetId(), IdempotencyKey: "admin-tries-direct"}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("calling the payment service's internal refund through the edge: %v, want permission_denied", err)
	}

	// CORS: the configured origin is allowed, others are not.
	for origin, allowed := range map[string]bool{"https://shop.example.com": true, "https://evil.example.net": false} {
		req, _ := http.NewRequest(http.MethodOptions, base+"/emporium.product.v1.ProductService/ListProducts", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
			t.Errorf("preflight from %s: allowed = %v, want %v", origin, got, allowed)
		}
	}

	// An oversized body is refused at the edge.
	big := strings.NewReader(`{"query":"` + strings.Repeat("a", 5<<20) + `"}`)
	res, err := http.Post(base+"/emporium.product.v1.ProductService/SearchProducts", "application/json", big)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MiB body: status %d, want 413", res.StatusCode)
	}

	// Signing out ends the access token at once, at the edge and in a
	// service in a process of its own that checks it without the edge.
	if _, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Logout(ctx,
		&authv1.LogoutRequest{RefreshToken: login.GetTokens().GetRefreshToken()}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	signedOut(t, "ListUsers through the edge", func() error {
		_, err := users.ListUsers(ctx, &userv1.ListUsersRequest{})
		return err
	})
	straight := productv1connect.NewInventoryServiceClient(http.DefaultClient, "http://"+productAddr, asAdmin)
	signedOut(t, "AdjustStock straight at the product service", func() error {
		_, err := straight.AdjustStock(ctx, restock)
		return err
	})
}

// signedOut checks that call, made with a token whose session was just
// revoked in another process, is refused. The other processes hold the
// revocation keys in their client-side caches; Redis pushes each an
// invalidation as the key is written, which its client reads on a
// goroutine of its own, so a call made in the instant after Logout
// answered can race that push. Normally it is seen at once; under the
// test suite's load (two cores, -race) the push may wait for the
// scheduler, so the check allows a second and logs when it was late.
func signedOut(t *testing.T, what string, call func() error) {
	t.Helper()
	start := time.Now()
	for {
		err := call()
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			if late := time.Since(start); late > 50*time.Millisecond {
				t.Logf("%s: the revocation arrived %s after Logout answered", what, late)
			}
			return
		}
		if time.Since(start) > time.Second {
			t.Errorf("%s after Logout: %v for %s, want unauthenticated", what, err, time.Since(start))
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// redisURL is the Redis the edge test shares sessions and limits through.
func redisURL(t *testing.T) string {
	t.Helper()
	redistest.Client(t) // skips locally, fails in CI, when Redis is down
	if u := os.Getenv("EMPORIUM_TEST_REDIS_URL"); u != "" {
		return u
	}
	return redistest.DefaultURL
}

func TestServeRefusesIncompleteConfiguration(t *testing.T) {
	t.Parallel()
	keys := filepath.Join(t.TempDir(), "keys.json")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--services", "edge", "--listen", "127.0.0.1:0", "--signing-keys", keys, "--internal-token", "x"}, "no upstream for product"},
		{[]string{"serve", "--services", "edge", "--signing-keys", keys, "--upstream", "product=http://a:1;user=http://b:2;order=http://c:3;payment=http://d:4;shipping=http://e:5"}, "--internal-token is required"},
		{[]string{"serve", "--services", "order", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "o.db"), "--jwks-url", "http://edge/jwks", "--tax-rules", "US=lots"}, "want COUNTRY[-REGION]=percent"},
		{[]string{"serve", "--services", "payment", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "pay.db"), "--jwks-url", "http://edge/jwks", "--payment-provider", "stripe"}, "set --stripe-secret-key"},
		{[]string{"serve", "--services", "payment", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "pay2.db"), "--jwks-url", "http://edge/jwks", "--payment-provider", "stripe",
			"--stripe-secret-key", "sk_test_x", "--stripe-webhook-secret", "whsec_x"}, "set --stripe-publishable-key"},
		{[]string{"serve", "--services", "product", "--listen", "127.0.0.1:0"}, "--database-url is required"},
		{[]string{"serve", "--services", "product", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "p.db"), "--search-path", t.TempDir()}, "--jwks-url is required"},
		{[]string{"serve", "--services", "payments"}, `unknown service "payments"`},
		{[]string{"serve", "--services", "notification", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "n.db"), "--jwks-url", "http://edge/jwks"}, "set --smtp-host"},
		{[]string{"serve", "--services", "notification", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "n2.db"), "--jwks-url", "http://edge/jwks", "--smtp-host", "mail", "--mail-from", "nobody"}, "from address"},
		{[]string{"serve", "--services", "order", "--payment-window", "2h", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "o2.db"), "--jwks-url", "http://edge/jwks"}, "want up to 50m"},
		{[]string{"serve", "--services", "edge", "--upstream", "product=ftp://x"}, "want an http:// URL"},
		{[]string{"serve", "--services", "shipping", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "s.db"), "--jwks-url", "http://edge/jwks", "--ship-from", `{"name":"W","line1":"1 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`, "--label-dir", t.TempDir()}, "shipping calls the order service: pass --upstream order="},
		{[]string{"serve", "--services", "shipping", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "s2.db"), "--jwks-url", "http://edge/jwks"}, "--ship-from is required"},
		{[]string{"serve", "--services", "product", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "p2.db"), "--search-path", t.TempDir(), "--jwks-url", "http://edge/jwks", "--database-max-conns", "-1"}, "--database-max-conns must be 0 (the default) or at least 2"},
		{[]string{"serve", "--services", "product", "--database-url", "sqlite:" + filepath.Join(t.TempDir(), "p3.db"), "--search-path", t.TempDir(), "--jwks-url", "http://edge/jwks", "--database-max-conns", "1"}, "at least 2, not 1"},
		{[]string{"serve", "--rate-limits", "login=fast"}, "want class=rate:burst"},
		{[]string{"serve", "--route-timeouts", "billing=5s"}, "want service=duration"},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("emporium %v: error %v, want one saying %q", tt.args, err, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "emporium ") {
		t.Errorf("version output %q", out.String())
	}
}

// TestConfigReferenceListsEveryFlag keeps docs/config.md honest: every flag
// of every command, with its environment variable, must be documented.
func TestConfigReferenceListsEveryFlag(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if c.name == "version" {
			continue
		}
		var help bytes.Buffer
		err := run(context.Background(), []string{c.name, "--help"}, func(string) string { return "" }, io.Discard, &help)
		if err == nil {
			t.Fatalf("%s --help: want flag.ErrHelp", c.name)
		}
		n := 0
		for _, line := range strings.Split(help.String(), "\n") {
			var flagName, env string
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "--%s [%s", &flagName, &env); err != nil {
				continue
			}
			n++
			env = strings.TrimSuffix(env, "]")
			for _, want := range []string{"`--" + flagName + "`", "`" + env + "`"} {
				if !bytes.Contains(doc, []byte(want)) {
					t.Errorf("docs/config.md does not document %s (emporium %s)", want, c.name)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s --help listed no flags:\n%s", c.name, &help)
		}
	}
}

// syncBuffer collects output from concurrent writers.
type syncBuffer = testkit.SyncBuffer
