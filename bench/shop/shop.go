// Package shop is the shopper loop the load tools share: bench/checkout
// measures it and bench/chaos runs it while it injects faults. A Client
// signs an admin in, picks in-stock SKUs and restocks them, registers and
// signs in shoppers, and each Shopper buys one item at a time through the
// edge (CartService.AddItem, CheckoutService.Checkout, then
// CheckoutService.PayOrder with the payment simulator's card that succeeds).
//
// Calls use the Connect protocol with the binary protobuf codec over
// HTTP/1.1 keep-alive connections, uncompressed unless Options.Gzip.
package shop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
)

// ShopperPassword is every shopper's password: 12+ characters, not a
// breached one, and free of the shoppers' email local parts.
const ShopperPassword = "a bench shopper passphrase 2026"

// SetupParallel bounds concurrent Register and Login calls: each hashes a
// password with argon2id, and the user service queues at most a few hashes
// (10 s) before refusing.
const SetupParallel = 4

// Card is the payment method that succeeds: Stripe's test id for the card
// 4242 4242 4242 4242, which the simulator takes as well (PayOrder refuses
// card numbers).
const Card = "pm_card_visa"

// Options say where the shop is and how to call it.
type Options struct {
	Edge        string        // base URL of the edge
	Conns       int           // idle keep-alive connections to keep (one per shopper)
	CallTimeout time.Duration // deadline of each call; default 10 s
	Gzip        bool          // ask for gzipped responses
}

// Client calls one edge.
type Client struct {
	o    Options
	HTTP *http.Client
}

// New makes a Client; Close its idle connections when done.
func New(o Options) *Client {
	if o.CallTimeout <= 0 {
		o.CallTimeout = 10 * time.Second
	}
	o.Edge = strings.TrimRight(o.Edge, "/")
	idle := o.Conns + 2*SetupParallel + 8
	return &Client{o: o, HTTP: &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     90 * time.Second,
		// Connect negotiates compression itself; without this the transport
		// would add Accept-Encoding: gzip on its own.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}}}
}

// Close closes idle connections.
func (c *Client) Close() { c.HTTP.CloseIdleConnections() }

// Edge is the edge's base URL.
func (c *Client) Edge() string { return c.o.Edge }

// Opts are the Connect options of every client: binary protobuf, and no
// compression unless Options.Gzip; token, when set, goes as a bearer token.
func (c *Client) Opts(token string) []connect.ClientOption {
	opts := []connect.ClientOption{}
	if !c.o.Gzip {
		opts = append(opts, connect.WithAcceptCompression("gzip", nil, nil))
	}
	if token != "" {
		h := "Bearer " + token
		opts = append(opts, connect.WithInterceptors(connect.UnaryInterceptorFunc(
			func(next connect.UnaryFunc) connect.UnaryFunc {
				return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
					req.Header().Set("Authorization", h)
					return next(ctx, req)
				}
			})))
	}
	return opts
}

// Call bounds one call by Options.CallTimeout.
func (c *Client) Call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.o.CallTimeout)
}

// Login signs a user in and returns the access token.
func (c *Client) Login(ctx context.Context, email, password string) (string, error) {
	cc, cancel := c.Call(ctx)
	defer cancel()
	res, err := authv1connect.NewAuthServiceClient(c.HTTP, c.o.Edge, c.Opts("")...).Login(cc,
		&authv1.LoginRequest{Email: email, Password: password})
	if err != nil {
		return "", err
	}
	tok := res.GetTokens().GetAccessToken()
	if tok == "" {
		return "", errors.New("no access token in the answer")
	}
	return tok, nil
}

// SetupCatalog signs the admin in, picks n in-stock SKUs from ListProducts
// and adds restock units to each one's stock (AdjustStock, idempotent per
// run), so that no checkout runs out.
func (c *Client) SetupCatalog(ctx context.Context, adminEmail, adminPassword string, n int, restock int64) ([]string, error) {
	admin, err := c.Login(ctx, adminEmail, adminPassword)
	if err != nil {
		return nil, fmt.Errorf("admin login as %s: %w", adminEmail, err)
	}
	products := productv1connect.NewProductServiceClient(c.HTTP, c.o.Edge, c.Opts("")...)
	var skus []string
	token := ""
	for len(skus) < n {
		cc, cancel := c.Call(ctx)
		res, err := products.ListProducts(cc, &productv1.ListProductsRequest{PageSize: 100, PageToken: token, InStockOnly: true})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ListProducts: %w", err)
		}
		for _, p := range res.GetProducts() {
			for _, v := range p.GetVariants() {
				if v.GetStock() > 0 && len(skus) < n {
					skus = append(skus, v.GetSku())
				}
			}
		}
		if token = res.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(skus) < n {
		return nil, fmt.Errorf("the catalog has only %d in-stock SKUs, %d were asked for", len(skus), n)
	}
	inventory := productv1connect.NewInventoryServiceClient(c.HTTP, c.o.Edge, c.Opts(admin)...)
	run := uuid.NewString()
	for _, sku := range skus {
		cc, cancel := c.Call(ctx)
		_, err := inventory.AdjustStock(cc, &productv1.AdjustStockRequest{
			Sku: sku, Delta: restock, Reason: "bench restock", IdempotencyKey: "bench-" + run + "-" + sku,
		})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("AdjustStock %s: %w", sku, err)
		}
	}
	return skus, nil
}

// Account is a registered, signed-in shopper.
type Account struct {
	Email string
	Token string
}

// SetupShoppers registers and signs in n new shoppers (unique emails per
// run), SetupParallel at a time. The edge must not rate-limit Register and
// Login this hard (bench runs with --rate-limits off).
func (c *Client) SetupShoppers(ctx context.Context, n int) ([]Account, error) {
	users := userv1connect.NewUserServiceClient(c.HTTP, c.o.Edge, c.Opts("")...)
	runID := make([]byte, 6)
	_, _ = rand.Read(runID)
	prefix := "bench-shopper-" + hex.EncodeToString(runID)
	accounts := make([]Account, n)
	errc := make(chan error, n)
	sem := make(chan struct{}, SetupParallel)
	var wg sync.WaitGroup
	for i := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("%s-%d@example.com", prefix, i)
			cc, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := users.Register(cc, &userv1.RegisterRequest{Email: email, Password: ShopperPassword, DisplayName: fmt.Sprintf("Bench shopper %d", i)})
			cancel()
			if err != nil {
				errc <- fmt.Errorf("UserService.Register %s: %w", email, err)
				return
			}
			tok, err := c.Login(ctx, email, ShopperPassword)
			if err != nil {
				errc <- fmt.Errorf("AuthService.Login %s: %w", email, err)
				return
			}
			accounts[i] = Account{Email: email, Token: tok}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return accounts, nil
}

// Shopper buys, one checkout at a time, as one signed-in customer.
type Shopper struct {
	c        *Client
	cart     orderv1connect.CartServiceClient
	checkout orderv1connect.CheckoutServiceClient
	skus     []string
	rng      *mrand.Rand
}

// NewShopper is shopper n, signed in with token, buying from skus.
func (c *Client) NewShopper(n int, token string, skus []string) *Shopper {
	return &Shopper{
		c:        c,
		cart:     orderv1connect.NewCartServiceClient(c.HTTP, c.o.Edge, c.Opts(token)...),
		checkout: orderv1connect.NewCheckoutServiceClient(c.HTTP, c.o.Edge, c.Opts(token)...),
		skus:     skus,
		rng:      mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(n))),
	}
}

// Address is where shoppers ship to. Its phone number gets the shipping
// updates by SMS where the shop sends SMS.
var Address = &typev1.PostalAddress{
	Name: "Bench Shopper", Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US",
	Phone: "+15125550100",
}

// Step names a call of a checkout.
type Step string

// The steps of a checkout, in order.
const (
	StepAddItem  Step = "AddItem"
	StepCheckout Step = "Checkout"
	StepPayOrder Step = "PayOrder"
)

// Purchase is what one checkout got: when each call ended, how long each
// took, and what the shop acknowledged. OrderID is set once Checkout
// answered (the shop acknowledged the order); Paid once PayOrder answered
// ORDER_STATUS_PAID (the shop acknowledged the payment).
type Purchase struct {
	SKU                     string
	OrderID                 string
	Paid                    bool
	End                     time.Time
	Add, Checkout, Pay, All time.Duration
}

// StepError is a failed call of a checkout.
type StepError struct {
	Step     Step
	Took     time.Duration // how long the failed call took
	Err      error
	Purchase Purchase // what was acknowledged before it failed
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Buy runs one checkout: AddItem (a random SKU, quantity 1), Checkout (a
// fresh idempotency key, Address, "local:standard" shipping) and PayOrder
// (Card, a fresh key). A call that fails, or an answer that is not what a
// working shop gives, returns a *StepError with what was acknowledged so
// far. Failed calls are not retried: callers decide.
func (s *Shopper) Buy(ctx context.Context) (Purchase, error) {
	p := Purchase{SKU: s.skus[s.rng.IntN(len(s.skus))]}
	fail := func(step Step, since time.Time, err error) (Purchase, error) {
		return p, &StepError{Step: step, Took: time.Since(since), Err: err, Purchase: p}
	}

	t0 := time.Now()
	c, cancel := s.c.Call(ctx)
	_, err := s.cart.AddItem(c, &orderv1.AddItemRequest{Sku: p.SKU, Quantity: 1})
	cancel()
	if err != nil {
		return fail(StepAddItem, t0, fmt.Errorf("AddItem %s: %w", p.SKU, err))
	}
	t1 := time.Now()
	c, cancel = s.c.Call(ctx)
	co, err := s.checkout.Checkout(c, &orderv1.CheckoutRequest{
		ShippingAddress: Address, ShippingRateId: "local:standard", IdempotencyKey: uuid.NewString(),
	})
	cancel()
	if err != nil {
		return fail(StepCheckout, t1, fmt.Errorf("CheckoutService.Checkout (%s): %w", p.SKU, err))
	}
	p.OrderID = co.GetOrder().GetId()
	if p.OrderID == "" {
		return fail(StepCheckout, t1, errors.New("CheckoutService.Checkout returned no order id"))
	}
	if st := co.GetOrder().GetStatus(); st != orderv1.OrderStatus_ORDER_STATUS_PENDING_PAYMENT {
		return fail(StepCheckout, t1, fmt.Errorf("CheckoutService.Checkout returned order %s in %s, want ORDER_STATUS_PENDING_PAYMENT", p.OrderID, st))
	}
	t2 := time.Now()
	c, cancel = s.c.Call(ctx)
	paid, err := s.checkout.PayOrder(c, &orderv1.PayOrderRequest{
		OrderId: p.OrderID, PaymentMethod: Card, IdempotencyKey: uuid.NewString(),
	})
	cancel()
	if err != nil {
		return fail(StepPayOrder, t2, fmt.Errorf("PayOrder %s: %w", p.OrderID, err))
	}
	t3 := time.Now()
	if st := paid.GetOrder().GetStatus(); st != orderv1.OrderStatus_ORDER_STATUS_PAID {
		return fail(StepPayOrder, t2, fmt.Errorf("PayOrder %s: order is %s (payment %s, last error %q), want ORDER_STATUS_PAID",
			p.OrderID, st, paid.GetPayment().GetStatus(), paid.GetPayment().GetLastError()))
	}
	p.Paid = true
	p.End, p.Add, p.Checkout, p.Pay, p.All = t3, t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t3.Sub(t0)
	return p, nil
}
