package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // the books are read over database/sql
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/emporiumhq/emporium/bench/cluster"
	"github.com/emporiumhq/emporium/bench/shop"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

const (
	shoppers  = 4
	perRound  = 3 // purchases per shopper before the kills, and again after
	adminMail = "e2e-admin@example.com"
)

// shopCluster is the shop spread over processes.
type shopCluster struct {
	db       *sql.DB
	otlp     *otlpReceiver
	smtp     *channeltest.SMTPServer
	procs    map[string]*cluster.Proc // by name: product1, product2, user, …, edge1, edge2
	admin    map[string]string        // process name → admin (metrics) URL
	edges    [2]*shop.Client
	password string
}

func TestCluster(t *testing.T) {
	if os.Getenv("EMPORIUM_E2E") == "" {
		t.Skip("set EMPORIUM_E2E=1 (go tool task test-cluster builds bin/emporium and does)")
	}
	started := time.Now()
	c := startCluster(t)
	t.Logf("cluster of %d processes up in %.1f s", len(c.procs), time.Since(started).Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// Browse and search, through each edge.
	var skus []string
	for i, e := range c.edges {
		products := productv1connect.NewProductServiceClient(e.HTTP, e.Edge(), e.Opts("")...)
		list, err := products.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 5, InStockOnly: true})
		if err != nil || len(list.GetProducts()) == 0 {
			t.Fatalf("edge %d: ListProducts = %v, %v", i+1, list, err)
		}
		word := strings.Fields(list.GetProducts()[0].GetTitle())[0]
		found, err := products.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: word, PageSize: 5})
		if err != nil || len(found.GetHits()) == 0 {
			t.Fatalf("edge %d: SearchProducts(%q) = %v, %v", i+1, word, found, err)
		}
	}
	c.checkSharedCache(t, ctx)
	// Sign up, sign in, restock.
	skus, err := c.edges[0].SetupCatalog(ctx, adminMail, c.password, 4, 100000)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := c.edges[1].SetupShoppers(ctx, shoppers)
	if err != nil {
		t.Fatal(err)
	}

	// Shoppers alternate between the edges, as a load balancer in front
	// of both would send them.
	var (
		mu    sync.Mutex
		acked []shop.Purchase
		fails []string
		first shop.Purchase // the first shopper's first paid order
	)
	buyRound := func(round string, edgesUp []int) {
		var wg sync.WaitGroup
		for i, a := range accounts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range perRound {
					e := c.edges[edgesUp[(i+n)%len(edgesUp)]]
					p, err := e.NewShopper(i, a.Token, skus).Buy(ctx)
					mu.Lock()
					if err != nil {
						fails = append(fails, fmt.Sprintf("%s, shopper %d via %s: %v", round, i, e.Edge(), err))
						if p.OrderID != "" {
							acked = append(acked, p) // acknowledged, payment unknown
						}
					} else {
						acked = append(acked, p)
						if i == 0 && first.OrderID == "" {
							first = p
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	buyRound("before the kills", []int{0, 1})
	if len(fails) > 0 {
		t.Fatalf("checkouts failed with every process up:\n%s", strings.Join(fails, "\n"))
	}

	// Mid-run: SIGKILL one product replica and one edge while shoppers buy.
	killed := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		c.procs["product2"].Kill9()
		c.procs["edge2"].Kill9()
		close(killed)
	}()
	buyRound("during the kills", []int{0, 1, 0}) // edge 2 disappears under them
	<-killed
	duringFails := len(fails)
	fails = nil
	// The survivors carry everything: a load balancer has taken the dead
	// edge out; the edge and the order service take the dead product
	// replica out themselves.
	buyRound("after the kills", []int{0})
	if len(fails) > 0 {
		t.Errorf("checkouts failed through the survivors:\n%s", strings.Join(fails, "\n"))
	}
	t.Logf("%d checkouts acknowledged, %d failed while the processes died", len(acked), duringFails)

	c.checkBooks(t, ctx, acked)
	c.shipAndNotify(t, ctx, accounts[0].Email, first)
	c.checkTrace(t)
	c.checkMetrics(t)
	t.Logf("e2e done in %.1f s", time.Since(started).Seconds())
}

func startCluster(t *testing.T) *shopCluster {
	t.Helper()
	bin := cluster.Binary(t)
	dir := cluster.WorkDir(t)
	pg := cluster.StartPostgres(t, dir)
	rd := cluster.StartRedis(t)
	c := &shopCluster{otlp: startOTLP(t), smtp: channeltest.StartPlainSMTP(t), procs: map[string]*cluster.Proc{}, admin: map[string]string{},
		password: "e2e admin passphrase " + uuid.NewString()[:8]}

	admin, err := sql.Open("pgx", pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE emporium"); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	dbURL := pg.URL("emporium")
	if c.db, err = sql.Open("pgx", dbURL); err != nil {
		t.Fatal(err)
	}
	c.db.SetMaxOpenConns(2)
	t.Cleanup(func() { c.db.Close() })

	// Each product replica has its own Bleve index (one process may open
	// one); both are built from the one catalog.
	search := []string{filepath.Join(dir, "search1"), filepath.Join(dir, "search2")}
	run := func(env []string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("emporium %s: %v\n%s", args[0], err, out)
		}
	}
	run(nil, "seed", "--database-url", dbURL, "--search-path", search[0], "--log-level", "warn")
	run(nil, "reindex", "--database-url", dbURL, "--search-path", search[1], "--log-level", "warn")
	run([]string{"EMPORIUM_PASSWORD=" + c.password}, "create-admin", "--database-url", dbURL, "--email", adminMail, "--log-level", "warn")

	names := []string{"edge1", "product1", "product2", "user", "notification", "shipping", "payment", "order", "edge2"}
	port := map[string]int{}
	for _, n := range names {
		port[n] = cluster.FreePort(t)
	}
	url := func(n string) string { return fmt.Sprintf("http://127.0.0.1:%d", port[n]) }
	upstream := func(self string) string {
		var parts []string
		for _, svc := range []string{"product", "user", "notification", "shipping", "payment", "order"} {
			if svc == self {
				continue
			}
			target := url(svc)
			if svc == "product" {
				target = url("product1") + "," + url("product2")
			}
			parts = append(parts, svc+"="+target)
		}
		return strings.Join(parts, ";")
	}
	itok := uuid.NewString()
	keys := filepath.Join(dir, "signing-keys.json")
	env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + c.otlp.url, "OTEL_BSP_SCHEDULE_DELAY=200", "OTEL_METRIC_EXPORT_INTERVAL=60000"}
	for _, n := range names {
		service := strings.TrimRight(n, "12")
		adminPort := cluster.FreePort(t)
		c.admin[n] = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
		args := []string{"--services=" + service, "--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort),
			"--internal-token", itok, "--redis-url", rd.URL(), "--upstream", upstream(service), "--job-poll", "100ms"}
		switch service {
		case "edge":
			args = append(args, "--signing-keys", keys, "--rate-limits", "default=100000:100000,auth=100000:100000,login=100000:100000,login-account=100000:100000")
		default:
			args = append(args, "--database-url", dbURL, "--jwks-url", url("edge1")+"/.well-known/jwks.json", "--public-url", url("edge1"))
		}
		switch n {
		case "product1":
			args = append(args, "--search-path", search[0], "--cache-ttl", "1h")
		case "product2":
			args = append(args, "--search-path", search[1], "--cache-ttl", "1h")
		case "notification":
			args = append(args, "--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(c.smtp.Port), "--smtp-tls", "none",
				"--smtp-username", c.smtp.Username, "--smtp-password", c.smtp.Password, "--mail-from", "E2E Shop <shop@e2e.example>")
		case "shipping":
			args = append(args, "--ship-from", `{"name":"E2E Warehouse","line1":"1 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`,
				"--label-dir", filepath.Join(dir, "labels"))
		}
		c.procs[n] = cluster.NewProc(t, bin, n, port[n], env, args...)
	}
	// The first edge makes the signing keys the second shares; the
	// services then start together (each migrates its own schema).
	if err := c.procs["edge1"].Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for _, n := range names[1 : len(names)-1] {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- c.procs[n].Start() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := c.procs["edge2"].Start(); err != nil {
		t.Fatal(err)
	}
	for i, n := range []string{"edge1", "edge2"} {
		c.edges[i] = shop.New(shop.Options{Edge: url(n), Conns: shoppers, CallTimeout: 20 * time.Second})
		t.Cleanup(c.edges[i].Close)
	}
	// The edges' health checks have seen every upstream by now.
	time.Sleep(500 * time.Millisecond)
	return c
}

// checkSharedCache: a price changed through the edge (on whichever
// product replica it lands) is what both replicas serve at once, though
// each caches answers for an hour: Redis tells them.
func (c *shopCluster) checkSharedCache(t *testing.T, ctx context.Context) {
	t.Helper()
	e := c.edges[0]
	staff, err := e.Login(ctx, adminMail, c.password)
	if err != nil {
		t.Fatal(err)
	}
	direct := func(n string) productv1connect.ProductServiceClient {
		return productv1connect.NewProductServiceClient(e.HTTP, c.procs[n].URL(), e.Opts("")...)
	}
	list, err := direct("product1").ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
	if err != nil || len(list.GetProducts()) == 0 {
		t.Fatalf("ListProducts = %v, %v", list, err)
	}
	get := &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: list.GetProducts()[0].GetId()}}
	price := func(n string) int64 {
		res, err := direct(n).GetProduct(ctx, get)
		if err != nil {
			t.Fatalf("%s: GetProduct: %v", n, err)
		}
		return res.GetProduct().GetVariants()[0].GetPrice().GetAmount()
	}
	old := price("product1")
	price("product2") // both have it cached now
	p := list.GetProducts()[0]
	p.Variants[0].Price.Amount = old + 100
	staffProducts := productv1connect.NewProductServiceClient(e.HTTP, e.Edge(), e.Opts(staff)...)
	if _, err := staffProducts.UpdateProduct(ctx, &productv1.UpdateProductRequest{Product: p,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"variants"}}}); err != nil {
		t.Fatalf("UpdateProduct: %v", err)
	}
	start := time.Now()
	for _, n := range []string{"product1", "product2"} {
		for price(n) != old+100 {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("%s still serves the old price %s after the change (cache TTL 1 h)", n, time.Since(start))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("both product replicas served the new price %s after the change", time.Since(start).Round(time.Millisecond))
}

// checkBooks: every acknowledged order is in the order service's table
// once, and no order exists that nobody was told about twice.
func (c *shopCluster) checkBooks(t *testing.T, ctx context.Context, acked []shop.Purchase) {
	t.Helper()
	rows, err := c.db.QueryContext(ctx, `SELECT id FROM "order".orders`)
	if err != nil {
		t.Fatalf("reading the orders: %v", err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if stored[id] {
			t.Errorf("order %s appears twice", id)
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range acked {
		if seen[p.OrderID] {
			t.Errorf("order %s was acknowledged for two checkouts", p.OrderID)
		}
		seen[p.OrderID] = true
		if !stored[p.OrderID] {
			t.Errorf("acknowledged order %s is lost", p.OrderID)
		}
	}
	// Checkouts that failed after the order was written may have left
	// orders nobody saw; every such order must still be one checkout
	// (idempotency keys are fresh per checkout, so more orders than
	// checkouts attempted would be a doubled one).
	attempted := 3 * shoppers * perRound
	if len(stored) > attempted {
		t.Errorf("%d orders for %d checkouts attempted", len(stored), attempted)
	}
}

// shipAndNotify ships a paid order of the first shopper as staff and waits
// for the shipping email to reach the SMTP server.
func (c *shopCluster) shipAndNotify(t *testing.T, ctx context.Context, email string, p shop.Purchase) {
	t.Helper()
	if len(c.smtp.To(email)) == 0 {
		deadline := time.Now().Add(30 * time.Second)
		for len(c.smtp.To(email)) == 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	before := len(c.smtp.To(email))
	if before == 0 {
		t.Fatalf("no order confirmation reached %s", email)
	}
	e := c.edges[0]
	staff, err := e.Login(ctx, adminMail, c.password)
	if err != nil {
		t.Fatal(err)
	}
	order, sku := p.OrderID, p.SKU
	shipments := shippingv1connect.NewShippingServiceClient(e.HTTP, e.Edge(), e.Opts(staff)...)
	created, err := shipments.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{
		OrderId: order, RateId: "local:standard", IdempotencyKey: "e2e-ship-" + order,
		Parcels: []*shippingv1.ParcelSpec{{Items: []*shippingv1.ShipmentItem{{Sku: sku, Quantity: 1}}, WeightGrams: 800}},
	})
	if err != nil || len(created.GetShipments()) != 1 {
		t.Fatalf("CreateShipment = %v, %v", created, err)
	}
	tracking := created.GetShipments()[0].GetTrackingNumber()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range c.smtp.To(email) {
			if strings.Contains(m.Text, tracking) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no email to %s carries the tracking number %s", email, tracking)
}

// checkTrace: a checkout is one trace from the edge through the order
// service to product and payment, down to database statements, each span
// under its process's service name.
func (c *shopCluster) checkTrace(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var problems []string
		roots := c.otlp.find(func(s span) bool {
			return s.Service == "emporium-edge" && strings.Contains(s.Name, "CheckoutService/Checkout") && s.Parent == ""
		})
		for _, root := range roots {
			spans := c.otlp.trace(root.TraceID)
			has := func(service string, db bool) bool {
				return slices.ContainsFunc(spans, func(s span) bool { return s.Service == service && (!db || s.DBSystem == "postgresql") })
			}
			var missing []string
			for _, svc := range []string{"emporium-order", "emporium-product", "emporium-payment"} {
				if !has(svc, false) {
					missing = append(missing, svc)
				}
				if !has(svc, true) {
					missing = append(missing, svc+" database")
				}
			}
			if len(missing) == 0 {
				t.Logf("checkout trace %s: %d spans", root.TraceID, len(spans))
				return
			}
			problems = append(problems, fmt.Sprintf("trace %s lacks %v", root.TraceID, missing))
		}
		if time.Now().After(deadline) {
			t.Errorf("no checkout trace spans edge → order → product → payment with database spans (%d checkout roots): %v",
				len(roots), problems[:min(3, len(problems))])
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkMetrics: every surviving process serves Prometheus metrics on its
// admin listener, the edge's public port does not, and every series the
// Grafana dashboard reads is served by some process.
func (c *shopCluster) checkMetrics(t *testing.T) {
	t.Helper()
	served := map[string]bool{}
	for name, u := range c.admin {
		if name == "product2" || name == "edge2" {
			continue // killed
		}
		res, err := http.Get(u + "/metrics")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			if i := strings.IndexAny(line, "{ "); i > 0 {
				served[line[:i]] = true
				served[name+":"+line[:i]] = true
			}
		}
		res.Body.Close()
	}
	for _, want := range []string{"edge1:emporium_edge_ratelimit_decisions_total", "order:rpc_server_call_duration_seconds_count",
		"product1:rpc_server_call_duration_seconds_count", "order:emporium_jobs_waiting", "order:db_client_connection_count",
		"payment:river_work_count_total"} {
		if !served[want] {
			t.Errorf("%s not served", want)
		}
	}
	res, err := http.Get(c.edges[0].Edge() + "/metrics")
	if err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the edge's public port answers /metrics with %d, want 404", res.StatusCode)
		}
	}

	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "emporium.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/emporium.json: %v", err)
	}
	series := regexp.MustCompile(`\b([a-z_]+_(?:total|bucket|count|sum|seconds|waiting|discarded|max|bytes))\b`)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range series.FindAllString(tg.Expr, -1) {
				if !served[m] {
					t.Errorf("the dashboard reads %s, which no process serves (in %q)", m, tg.Expr)
				}
			}
		}
	}
}
