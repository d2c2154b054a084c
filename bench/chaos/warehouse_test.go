package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
)

// warehouseRate is the rate the warehouse ships with: UPS Ground, bought
// from the UPS fake behind w.upProxy.
const warehouseRate = "ups:ground"

// packers is how many CreateShipment calls the warehouse makes at once.
const packers = 4

// shipCallTimeout bounds one CreateShipment: longer than the adapter's own
// retries of a refused connection (3 attempts, backoff up to 5 s), so that
// the warehouse never abandons a call while the shop may be buying.
const shipCallTimeout = 30 * time.Second

// warehouse is staff shipping the paid orders of a load as they come, as
// a warehouse worker (or its software) does: CreateShipment with UPS, one
// idempotency key per order, retried with backoff while the shop answers
// unavailable. A purchase the shop reports in doubt (the carrier may have
// sold the label, its answer was lost) is not retried: the shop says to
// check at the carrier first, and a blind retry could buy a second label.
type warehouse struct {
	w      *world
	l      *load
	client shippingv1connect.ShippingServiceClient
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	shipped map[string]string // order → shipment id
	busy    map[string]bool   // orders a call is under way for
	inDoubt map[string]string // order → the shop's words
	next    map[string]time.Time
	backoff map[string]time.Duration
	calls   int
	retried int // unavailable answers that were retried
	failed  []string
}

func (w *world) startWarehouse(l *load) (*warehouse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tok, err := w.client.Login(ctx, w.staffEmail, w.staffPassword)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("signing the warehouse in: %w", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	h := &warehouse{w: w, l: l, cancel: cancel, done: make(chan struct{}),
		client:  shippingv1connect.NewShippingServiceClient(w.client.HTTP, w.client.Edge(), w.client.Opts(tok)...),
		shipped: map[string]string{}, busy: map[string]bool{}, inDoubt: map[string]string{}, next: map[string]time.Time{}, backoff: map[string]time.Duration{}}
	go h.run(ctx)
	return h, nil
}

func (h *warehouse) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer func() { wg.Wait(); close(h.done) }()
	sem := make(chan struct{}, packers)
	for ctx.Err() == nil {
		for id, sku := range h.l.paidOrders() {
			h.mu.Lock()
			_, done := h.shipped[id]
			_, doubt := h.inDoubt[id]
			skip := done || doubt || h.busy[id] || time.Now().Before(h.next[id])
			if !skip {
				h.busy[id] = true
			}
			h.mu.Unlock()
			if skip {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				h.ship(ctx, id, sku)
			}()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (h *warehouse) ship(ctx context.Context, orderID, sku string) {
	c, cancel := context.WithTimeout(ctx, shipCallTimeout)
	res, err := h.client.CreateShipment(c, &shippingv1.CreateShipmentRequest{
		OrderId: orderID, RateId: warehouseRate, IdempotencyKey: "chaos-ship-" + orderID,
		Parcels: []*shippingv1.ParcelSpec{{Items: []*shippingv1.ShipmentItem{{Sku: sku, Quantity: 1}}, WeightGrams: 800}},
	})
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.busy, orderID)
	h.calls++
	var ce *connect.Error
	switch {
	case err == nil && len(res.GetShipments()) == 1:
		h.shipped[orderID] = res.GetShipments()[0].GetId()
	case err == nil:
		h.failed = append(h.failed, fmt.Sprintf("order %s: %d shipments, want 1", orderID, len(res.GetShipments())))
		h.shipped[orderID] = ""
	case ctx.Err() != nil:
		h.calls-- // stopped, not answered
	case errors.As(err, &ce) && ce.Code() == connect.CodeUnavailable && strings.Contains(ce.Message(), "may or may not have taken effect"):
		h.inDoubt[orderID] = ce.Message()
	case errors.As(err, &ce) && (ce.Code() == connect.CodeUnavailable || ce.Code() == connect.CodeDeadlineExceeded):
		h.retried++
		b := min(max(2*h.backoff[orderID], time.Second), 8*time.Second)
		h.backoff[orderID] = b
		h.next[orderID] = time.Now().Add(b)
	default:
		h.failed = append(h.failed, fmt.Sprintf("order %s: %v", orderID, err))
		h.shipped[orderID] = ""
	}
}

// drain waits until every paid order of the load is shipped or in doubt,
// at most within, and stops the warehouse.
func (h *warehouse) drain(within time.Duration) error {
	defer func() { h.cancel(); <-h.done }()
	deadline := time.Now().Add(within)
	for {
		left := 0
		h.mu.Lock()
		for id := range h.l.paidOrders() {
			_, done := h.shipped[id]
			_, doubt := h.inDoubt[id]
			if !done && !doubt {
				left++
			}
		}
		h.mu.Unlock()
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d paid orders not shipped %s after the load stopped", left, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// summary is what the warehouse did.
type warehouseSummary struct {
	calls, shipped, retried int
	inDoubt                 map[string]string
	failed                  []string
}

func (h *warehouse) summary() warehouseSummary {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := warehouseSummary{calls: h.calls, retried: h.retried, failed: append([]string(nil), h.failed...), inDoubt: map[string]string{}}
	for _, id := range h.shipped {
		if id != "" {
			s.shipped++
		}
	}
	for k, v := range h.inDoubt {
		s.inDoubt[k] = v
	}
	return s
}
