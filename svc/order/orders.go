package order

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/money"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// GetOrder implements OrderService.
func (s *Service) GetOrder(ctx context.Context, req *orderv1.GetOrderRequest) (*orderv1.GetOrderResponse, error) {
	o, err := s.ownOrder(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &orderv1.GetOrderResponse{Order: o.toProto()}, nil
}

// orderCursor is a keyset position, newest first, bound to its filters.
type orderCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
	Filter    string `json:"f"`
}

// listOrders pages through orders matching f, newest first; filter names
// f in page tokens.
func (s *Service) listOrders(ctx context.Context, pageSize int32, token, filter string, f orderFilter) ([]*orderv1.Order, string, error) {
	size := paging.Size(pageSize)
	f.Limit = size + 1
	if token != "" {
		var c orderCursor
		if err := paging.Decode(token, &c); err != nil {
			return nil, "", err
		}
		if c.Filter != filter {
			return nil, "", errs.Invalidf("page_token belongs to a request with other filters: start again without it")
		}
		f.After = &c
	}
	rows, err := s.store.listOrders(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		next = paging.Encode(orderCursor{CreatedAt: last.CreatedAt, ID: last.ID, Filter: filter})
	}
	out := make([]*orderv1.Order, len(rows))
	for i, r := range rows {
		out[i] = r.toProto()
	}
	return out, next, nil
}

// ListMyOrders implements OrderService.
func (s *Service) ListMyOrders(ctx context.Context, req *orderv1.ListMyOrdersRequest) (*orderv1.ListMyOrdersResponse, error) {
	p := shopper(ctx)
	if p == nil {
		return nil, errs.Unauthenticatedf("sign in to see your orders")
	}
	orders, next, err := s.listOrders(ctx, req.GetPageSize(), req.GetPageToken(), "mine:"+p.Subject, orderFilter{CustomerID: p.Subject})
	if err != nil {
		return nil, err
	}
	return &orderv1.ListMyOrdersResponse{Orders: orders, NextPageToken: next}, nil
}

// ListOrders implements OrderService.
func (s *Service) ListOrders(ctx context.Context, req *orderv1.ListOrdersRequest) (*orderv1.ListOrdersResponse, error) {
	f := proto.CloneOf(req)
	f.PageSize, f.PageToken = 0, ""
	where := orderFilter{Statuses: req.GetStatuses(), CustomerID: req.GetCustomerId(), Query: strings.TrimSpace(req.GetQuery())}
	if t := req.GetCreatedAfter(); t != nil {
		after := micros(t.AsTime())
		where.CreatedAfter = &after
	}
	if t := req.GetCreatedBefore(); t != nil {
		before := micros(t.AsTime())
		where.CreatedBefore = &before
	}
	orders, next, err := s.listOrders(ctx, req.GetPageSize(), req.GetPageToken(), digest(f), where)
	if err != nil {
		return nil, err
	}
	return &orderv1.ListOrdersResponse{Orders: orders, NextPageToken: next}, nil
}

// CancelOrder implements OrderService.
func (s *Service) CancelOrder(ctx context.Context, req *orderv1.CancelOrderRequest) (*orderv1.CancelOrderResponse, error) {
	o, err := s.ownOrder(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	staff := isStaff(shopper(ctx))
	if o.Status == pendingPayment && o.PaymentID != "" {
		// Stop the payment first, so it cannot succeed after the order is
		// gone; if it already succeeded, the order is paid and is
		// canceled (and refunded) as such below.
		pay, err := s.cancelPayment(ctx, o.PaymentID)
		if err != nil {
			return nil, remote("cancel the payment", err)
		}
		if pay.GetStatus() == paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED {
			if _, err := s.applyPayment(ctx, o.ID, pay, "payment succeeded"); err != nil {
				return nil, err
			}
		}
	}
	reason := req.GetReason()
	if reason == "" {
		reason = "canceled by the customer"
		if staff {
			reason = "canceled by staff"
		}
	}
	out, err := s.store.changeOrder(ctx, req.GetId(), func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		switch o.Status {
		case canceled:
			return nil
		case pendingPayment:
			return s.cancelPending(ctx, tx, o, reason, actor(ctx))
		case paid:
			return s.cancelPaid(ctx, tx, o, reason, actor(ctx))
		case fulfilling:
			if !staff {
				return errs.FailedPreconditionf("order %s is being packed and can no longer be canceled here; contact us", o.Number)
			}
			return s.cancelPaid(ctx, tx, o, reason, actor(ctx))
		}
		return errs.FailedPreconditionf("order %s is %s and cannot be canceled; ask for a refund instead", o.Number, statusName(o.Status))
	})
	if err != nil {
		return nil, err
	}
	return &orderv1.CancelOrderResponse{Order: out.toProto()}, nil
}

// RefundOrder implements OrderService.
func (s *Service) RefundOrder(ctx context.Context, req *orderv1.RefundOrderRequest) (*orderv1.RefundOrderResponse, error) {
	o, err := s.store.order(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	f := proto.CloneOf(req)
	f.IdempotencyKey = ""
	hash := digest(f)
	prev, err := s.store.refundRequest(ctx, o.ID, req.GetIdempotencyKey())
	switch {
	case err != nil:
		return nil, err
	case prev != nil && prev.RequestHash != hash:
		return nil, errs.Conflictf("idempotency_key %q was already used for a different refund", req.GetIdempotencyKey())
	case prev != nil: // a retry: the payment service answers it from its own record
	default:
		if !refundable(o.Status) {
			return nil, errs.FailedPreconditionf("order %s is %s; only paid orders can be refunded", o.Number, statusName(o.Status))
		}
		left := o.Total - o.RefundedTotal
		amount := req.GetAmount()
		if req.Amount == nil {
			amount = left
		}
		if amount > left || left == 0 {
			return nil, errs.FailedPreconditionf("at most %s of order %s can still be refunded", money.Format(left, o.Currency), o.Number)
		}
		prev = &orderRefundRow{OrderID: o.ID, IdempotencyKey: req.GetIdempotencyKey(), RequestHash: hash, Amount: amount, CreatedAt: micros(s.now())}
		if err := s.store.insertRefundRequest(ctx, prev); err != nil && !db.IsUniqueViolation(err) {
			return nil, err
		}
	}
	res, err := s.payments.RefundPayment(ctx, &paymentv1.RefundPaymentRequest{
		PaymentId: o.PaymentID, Amount: prev.Amount, Reason: req.GetReason(),
		IdempotencyKey: "order:" + o.ID + ":refund:" + req.GetIdempotencyKey(),
	})
	if err != nil {
		return nil, remote("refund the payment", err)
	}
	total := res.GetPayment().GetRefunded().GetAmount()
	reason := "refunded " + money.Format(prev.Amount, o.Currency)
	if req.GetReason() != "" {
		reason += ": " + req.GetReason()
	}
	out, err := s.store.changeOrder(ctx, req.GetId(), func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		return s.noteRefund(ctx, tx, o, total, reason, actor(ctx))
	})
	if err != nil {
		return nil, err
	}
	return &orderv1.RefundOrderResponse{Order: out.toProto()}, nil
}

// UpdateFulfillment implements OrderService.
func (s *Service) UpdateFulfillment(ctx context.Context, req *orderv1.UpdateFulfillmentRequest) (*orderv1.UpdateFulfillmentResponse, error) {
	out, err := s.store.changeOrder(ctx, req.GetId(), func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		if req.GetEventId() != "" {
			first, err := jobs.Once(ctx, tx, "order.fulfillment-events", req.GetEventId())
			if err != nil || !first {
				return err
			}
		}
		if o.Status == req.GetStatus() {
			return nil
		}
		note := req.GetNote()
		if note == "" {
			note = statusName(req.GetStatus())
		}
		return s.move(ctx, tx, o, req.GetStatus(), note, actor(ctx))
	})
	if err != nil {
		return nil, err
	}
	return &orderv1.UpdateFulfillmentResponse{Order: out.toProto()}, nil
}

// GetOrderInternal implements OrderService: any order, for another service.
func (s *Service) GetOrderInternal(ctx context.Context, req *orderv1.GetOrderInternalRequest) (*orderv1.GetOrderInternalResponse, error) {
	o, err := s.store.order(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &orderv1.GetOrderInternalResponse{Order: o.toProto()}, nil
}

// UpdateFulfillmentInternal implements OrderService: UpdateFulfillment for
// another service (the shipping service, from carrier events).
func (s *Service) UpdateFulfillmentInternal(ctx context.Context, req *orderv1.UpdateFulfillmentInternalRequest) (*orderv1.UpdateFulfillmentInternalResponse, error) {
	res, err := s.UpdateFulfillment(ctx, &orderv1.UpdateFulfillmentRequest{
		Id: req.GetId(), Status: req.GetStatus(), Note: req.GetNote(), EventId: req.GetEventId(),
	})
	if err != nil {
		return nil, err
	}
	return &orderv1.UpdateFulfillmentInternalResponse{Order: res.GetOrder()}, nil
}
