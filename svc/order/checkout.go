package order

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
)

// Checkout implements CheckoutService.
func (s *Service) Checkout(ctx context.Context, req *orderv1.CheckoutRequest) (*orderv1.CheckoutResponse, error) {
	p := shopper(ctx)
	if p == nil {
		return nil, errs.Unauthenticatedf("sign in to check out")
	}
	hash := requestHash(req)
	cart, placed, err := s.store.checkoutCart(ctx, p.Subject, req.GetIdempotencyKey())
	if err != nil {
		return nil, err
	}
	if placed || cart == nil {
		// A retry (which may have lost the race with its first attempt and
		// found the cart already turned into the order), or a shopper with
		// no cart yet.
		if o, err := s.store.orderByKey(ctx, p.Subject, req.GetIdempotencyKey()); err != nil || o != nil {
			if err != nil {
				return nil, err
			}
			return s.replay(ctx, o, hash)
		}
	}
	if cart == nil || len(cart.Lines) == 0 {
		return nil, errs.FailedPreconditionf("your cart is empty")
	}
	addr := req.GetShippingAddress()
	dest := &typev1.Destination{Country: addr.GetCountry(), Region: addr.GetRegion(), PostalCode: addr.GetPostalCode()}
	pr, err := s.price(ctx, cart.Lines, cart.DiscountCode, dest, req.GetShippingRateId())
	if err != nil {
		return nil, err
	}
	if err := checkPriced(pr, req.GetExpectedTotal(), s.currency); err != nil {
		return nil, err
	}

	reservation, err := s.reserve(ctx, p.Subject, req.GetIdempotencyKey(), pr.lines)
	if err != nil {
		return nil, err
	}
	s.crash("checkout.reserved")

	o := s.newOrder(p.Subject, req, hash, pr, reservation)
	err = s.placeOrder(ctx, o, cart)
	if db.IsUniqueViolation(err) || errors.Is(err, errCartChanged) {
		// The same checkout, retried at the same time, may have placed the
		// order first (its key taken, the cart emptied): answer with it. Its
		// hold is this attempt's too, so it must not go back.
		existing, rerr := s.store.orderByKey(ctx, p.Subject, req.GetIdempotencyKey())
		switch {
		case rerr != nil:
			return nil, rerr // the hold may be that order's: leave it
		case existing != nil:
			return s.replay(ctx, existing, hash)
		case db.IsUniqueViolation(err):
			return nil, errs.Abortedf("this checkout is being placed by another request; retry with the same idempotency_key")
		}
		// An item added or removed since the cart was priced.
		err = errs.FailedPreconditionf("your cart changed during checkout; review it and check out again")
	}
	if err != nil {
		// The hold goes back now; if this fails too, it expires.
		if _, rerr := s.inventory.ReleaseReservation(context.WithoutCancel(ctx), &productv1.ReleaseReservationRequest{Id: reservation}); rerr != nil {
			s.log.WarnContext(ctx, "releasing the stock of a failed checkout; it will expire instead", "reservation", reservation, "err", rerr)
		}
		return nil, err
	}
	s.crash("checkout.order_created")
	return s.withPayment(ctx, o)
}

// requestHash identifies a checkout's content, without its key.
func requestHash(req *orderv1.CheckoutRequest) string {
	c := proto.CloneOf(req)
	c.IdempotencyKey = ""
	return digest(c)
}

// checkPriced refuses a cart that cannot be bought as it stands.
func checkPriced(pr *priced, expected *typev1.Money, currency string) error {
	if !pr.ready {
		var issues []string
		for _, l := range pr.lines {
			if l.issue != "" {
				title := l.SKU
				if l.info != nil {
					title = l.info.GetProductTitle()
				}
				issues = append(issues, l.issue+": "+title)
			}
		}
		return errs.FailedPreconditionf("some items cannot be bought as they stand (%s); update your cart", strings.Join(issues, "; "))
	}
	if pr.discountCode != "" && pr.discount == nil {
		return errs.FailedPreconditionf("the discount code %s cannot be used: %s; remove it or change your cart", pr.discountCode, pr.discountIssue)
	}
	if pr.rate == nil {
		return errs.Invalidf("shipping_rate_id: pick one of the cart's shipping_rates")
	}
	if expected != nil && (expected.GetAmount() != pr.total || expected.GetCurrency() != currency) {
		return errs.FailedPreconditionf("prices changed: the total is now %s; review your cart and check out again", money.Format(pr.total, currency))
	}
	return nil
}

// reserve holds the lines' stock for the checkout under key. Concurrent
// retries of one checkout share the hold: the product service answers the
// later ones "aborted" while the first is being made, and they try again.
// The hold's own key also names the items, so a cart changed since a failed
// attempt gets a hold of its own; and a retry that finds its hold already
// released (the attempt failed, or waited past the hold's expiry) holds
// again under a key derived from the released one, which concurrent
// retries derive alike.
func (s *Service) reserve(ctx context.Context, customer, checkoutKey string, lines []*pricedLine) (string, error) {
	req := &productv1.ReserveStockRequest{TtlSeconds: int32((s.window + holdGrace) / time.Second)}
	for _, l := range lines {
		req.Items = append(req.Items, &productv1.ReservationItem{Sku: l.SKU, Quantity: l.Quantity, SearchId: l.SearchID})
	}
	key := "checkout:" + customer + ":" + checkoutKey
	req.IdempotencyKey = holdKey(customer, checkoutKey, req.GetItems())
	for attempt, holds := 1, 0; ; attempt++ {
		res, err := s.inventory.ReserveStock(ctx, req)
		switch code := connect.CodeOf(err); {
		case err == nil && res.GetReservation().GetStatus() == productv1.ReservationStatus_RESERVATION_STATUS_RELEASED && holds < 5:
			holds++
			req.IdempotencyKey = key + ":after:" + res.GetReservation().GetId()
		case err == nil:
			return res.GetReservation().GetId(), nil
		case code == connect.CodeAborted && attempt < 20:
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
			}
		case code == connect.CodeFailedPrecondition:
			return "", errs.FailedPreconditionf("sold out: some items in your cart are no longer in stock in the quantity you chose (%s)", message(err))
		default:
			return "", remote("hold stock", err)
		}
	}
}

// holdKey is the idempotency key of a checkout's first stock hold: the
// customer, their checkout key, and the items.
func holdKey(customer, checkoutKey string, items []*productv1.ReservationItem) string {
	return "checkout:" + customer + ":" + checkoutKey + ":" + digest(&productv1.ReserveStockRequest{Items: items})[:16]
}

func (s *Service) newOrder(customer string, req *orderv1.CheckoutRequest, hash string, pr *priced, reservation string) *orderRow {
	now := s.now()
	addr, _ := protojson.Marshal(req.GetShippingAddress())
	rate, _ := protojson.Marshal(pr.rate)
	o := &orderRow{
		ID: newID(), Number: orderNumber(), CustomerID: customer, Status: pendingPayment, Currency: s.currency,
		Subtotal: pr.subtotal, DiscountCode: pr.discountCode, DiscountTotal: pr.discountTotal,
		ShippingTotal: pr.shipping, TaxTotal: pr.tax, Total: pr.total,
		ShippingAddress: string(addr), ShipName: strings.ToLower(req.GetShippingAddress().GetName()), ShippingRate: string(rate),
		ReservationID: reservation, IdempotencyKey: req.GetIdempotencyKey(), RequestHash: hash,
		ExpiresAt: micros(now.Add(s.window)), Version: 1, CreatedAt: micros(now), UpdatedAt: micros(now),
	}
	if pr.discount != nil {
		o.DiscountID = pr.discount.ID
	}
	for _, l := range pr.lines {
		o.Lines = append(o.Lines, &orderLine{
			SKU: l.SKU, ProductID: l.info.GetProductId(), Title: l.info.GetProductTitle(),
			VariantTitle: l.info.GetVariantTitle(), UnitPrice: l.info.GetPrice().GetAmount(), Quantity: l.Quantity, LineTotal: l.total,
		})
	}
	return o
}

// orderNumber is short, unambiguous when read aloud (Crockford's base32),
// and random, so numbers reveal nothing about sales.
func orderNumber() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return "EMP-" + string(b)
}

// placeOrder writes a new order with its lines and first history entry,
// redeems its discount and empties the cart: all or nothing. The expiry
// sweep (expiry.go) cancels the order if it is not paid in time.
func (s *Service) placeOrder(ctx context.Context, o *orderRow, cart *cartRow) error {
	o.History = []*statusStep{{To: pendingPayment, Reason: "checked out", Actor: "customer:" + o.CustomerID, At: o.CreatedAt}}
	cart.Lines, cart.DiscountCode, cart.UpdatedAt = nil, "", micros(s.now())
	if o.DiscountID == "" && db.IsPostgres(s.store.db) {
		return s.store.insertOrderWritingCart(ctx, o, cart) // one statement
	}
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.insertOrder(ctx, tx, o); err != nil {
			return err // a unique violation is the caller's to read
		}
		if o.DiscountID != "" {
			redeemed, err := s.store.redeem(ctx, tx, o.DiscountID)
			if err != nil {
				return err
			}
			if !redeemed {
				return errs.FailedPreconditionf("the discount code %s has just been used up; remove it and check out again", o.DiscountCode)
			}
		}
		return s.store.updateCart(ctx, tx, cart)
	})
}

// replay answers a retried checkout with its order, finishing what the
// first attempt may not have (opening the payment).
func (s *Service) replay(ctx context.Context, o *orderRow, hash string) (*orderv1.CheckoutResponse, error) {
	if o.RequestHash != hash {
		return nil, errs.Conflictf("idempotency_key %q was already used for a different checkout", o.IdempotencyKey)
	}
	return s.withPayment(ctx, o)
}

// withPayment opens o's payment if it has none yet (idempotently: one
// payment per order, whatever retries and crashes happen) and answers with
// both. An order with nothing to pay is paid at once.
func (s *Service) withPayment(ctx context.Context, o *orderRow) (*orderv1.CheckoutResponse, error) {
	pay, err := s.ensurePayment(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.Status == pendingPayment && o.Total == 0 {
		if o, err = s.applyPayment(ctx, o.ID, nil, "nothing to pay"); err != nil {
			return nil, err
		}
	}
	return &orderv1.CheckoutResponse{Order: o.toProto(), Payment: forCaller(ctx, o, pay)}, nil
}

func (s *Service) ensurePayment(ctx context.Context, o *orderRow) (*paymentv1.Payment, error) {
	if o.Total == 0 {
		return nil, nil
	}
	if o.PaymentID != "" {
		res, err := s.payments.GetPayment(ctx, &paymentv1.GetPaymentRequest{Id: o.PaymentID})
		if err != nil {
			return nil, remote("read the payment", err)
		}
		return res.GetPayment(), nil
	}
	if o.Status != pendingPayment {
		return nil, nil
	}
	res, err := s.payments.CreatePayment(ctx, &paymentv1.CreatePaymentRequest{
		OrderId: o.ID, Amount: moneyOf(o.Total, o.Currency), IdempotencyKey: "order:" + o.ID,
	})
	if err != nil {
		return nil, remote("open the payment", err)
	}
	pay := res.GetPayment()
	if err := s.store.setPayment(ctx, o.ID, pay.GetId()); err != nil {
		return nil, err
	}
	o.PaymentID = pay.GetId()
	s.crash("checkout.payment_created")
	return pay, nil
}

// PayOrder implements CheckoutService.
func (s *Service) PayOrder(ctx context.Context, req *orderv1.PayOrderRequest) (*orderv1.PayOrderResponse, error) {
	o, err := s.ownOrder(ctx, req.GetOrderId())
	if err != nil {
		return nil, err
	}
	switch o.Status {
	case pendingPayment:
	case canceled:
		return nil, errs.FailedPreconditionf("order %s was canceled and cannot be paid; check out again", o.Number)
	default: // paid already
		pay, err := s.ensurePayment(ctx, o)
		if err != nil {
			return nil, err
		}
		return &orderv1.PayOrderResponse{Order: o.toProto(), Payment: forCaller(ctx, o, pay)}, nil
	}
	if o.PaymentID == "" { // the checkout stopped before opening it
		if _, err := s.ensurePayment(ctx, o); err != nil {
			return nil, err
		}
	}
	res, err := s.payments.ConfirmPayment(ctx, &paymentv1.ConfirmPaymentRequest{
		PaymentId: o.PaymentID, PaymentMethod: req.GetPaymentMethod(),
		IdempotencyKey: "pay:" + o.ID + ":" + req.GetIdempotencyKey(), ReturnUrl: req.GetReturnUrl(),
	})
	if err != nil {
		return nil, remote("take the payment", err)
	}
	pay := res.GetPayment()
	s.crash("pay.confirmed")
	if pay.GetStatus() == paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED {
		if o, err = s.applyReadPayment(ctx, o, pay, "payment succeeded"); err != nil {
			return nil, err
		}
	}
	return &orderv1.PayOrderResponse{Order: o.toProto(), Payment: forCaller(ctx, o, pay)}, nil
}

// commitHold makes order o's stock hold final as its payment succeeds, so
// that marking the order paid needs no commit job: that job, River's
// costliest write, was one per checkout. It reports whether the hold is
// committed. When it is not (the hold is gone, or the product service did
// not answer), the order is paid as before, with the job, which commits
// the hold or, if it is gone, cancels and refunds the order. If the order
// was canceled meanwhile, its return job gives the committed units back.
// A crash after this commit leaves a committed hold and a pending order
// that the payment's event then pays; its own commit finds the hold
// committed already, and counts no second sale.
func (s *Service) commitHold(ctx context.Context, o *orderRow) bool {
	_, err := s.inventory.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: o.ReservationID})
	if err != nil && connect.CodeOf(err) != connect.CodeFailedPrecondition {
		s.log.WarnContext(ctx, "committing a paid order's stock; a job will", "order", o.ID, "err", err)
	}
	return err == nil
}

// GetOrderPayment implements CheckoutService: the owner of an order, and
// only they, read its payment with the client secret while it may still be
// paid.
func (s *Service) GetOrderPayment(ctx context.Context, req *orderv1.GetOrderPaymentRequest) (*orderv1.GetOrderPaymentResponse, error) {
	p := shopper(ctx)
	if p == nil {
		return nil, errs.Unauthenticatedf("sign in to pay for orders")
	}
	o, err := s.store.order(ctx, req.GetOrderId())
	if err != nil {
		return nil, err
	}
	if o.CustomerID != p.Subject { // staff included: the secret is the shopper's
		return nil, errs.NotFoundf("order %q not found", req.GetOrderId())
	}
	pay, err := s.ensurePayment(ctx, o)
	if err != nil {
		return nil, err
	}
	return &orderv1.GetOrderPaymentResponse{Order: o.toProto(), Payment: forCaller(ctx, o, pay)}, nil
}

// forCaller is payment pay of order o as the caller may see it: the client
// secret, which lets whoever holds it confirm the payment with the
// provider's SDK, goes only to the order's owner and only while the order
// waits for payment. Staff acting on someone's order never get it.
func forCaller(ctx context.Context, o *orderRow, pay *paymentv1.Payment) *paymentv1.Payment {
	if pay.GetClientSecret() == "" {
		return pay
	}
	if p := shopper(ctx); p != nil && p.Subject == o.CustomerID && o.Status == pendingPayment {
		return pay
	}
	pay = proto.CloneOf(pay)
	pay.ClientSecret = ""
	return pay
}

// ownOrder reads an order the caller may see: their own, or any for staff.
// Someone else's order is "not found", so ids reveal nothing.
func (s *Service) ownOrder(ctx context.Context, id string) (*orderRow, error) {
	p := shopper(ctx)
	if p == nil {
		return nil, errs.Unauthenticatedf("sign in to see orders")
	}
	o, err := s.store.order(ctx, id)
	if err != nil {
		return nil, err
	}
	if o.CustomerID != p.Subject && !isStaff(p) {
		return nil, errs.NotFoundf("order %q not found", id)
	}
	return o, nil
}
