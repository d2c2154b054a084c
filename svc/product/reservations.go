package product

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

const (
	defaultHold = 15 * time.Minute
	// expiryBatch bounds one sweep; the next sweep takes the rest.
	expiryBatch = 100
)

// ReserveStock implements InventoryService.
func (s *Service) ReserveStock(ctx context.Context, req *productv1.ReserveStockRequest) (*productv1.ReserveStockResponse, error) {
	now := s.now()
	ttl := time.Duration(req.GetTtlSeconds()) * time.Second
	if ttl == 0 {
		ttl = defaultHold
	}
	r := &reservationRow{
		ID: newID(), Status: held, IdempotencyKey: req.GetIdempotencyKey(), RequestHash: reservationHash(req),
		ExpiresAt: micros(now.Add(ttl)), CreatedAt: micros(now), UpdatedAt: micros(now),
	}
	seen := map[string]bool{}
	for i, it := range req.GetItems() {
		if seen[it.GetSku()] {
			return nil, errs.Invalidf("items[%d].sku: %q appears twice; add the quantities up", i, it.GetSku())
		}
		seen[it.GetSku()] = true
		r.Items = append(r.Items, &reservationItemRow{ReservationID: r.ID, SKU: it.GetSku(), Quantity: it.GetQuantity(), SearchID: it.GetSearchId()})
	}
	out, effect, err := s.store.reserve(ctx, r)
	if err != nil {
		return nil, err
	}
	s.stockChanged(ctx, effect)
	return &productv1.ReserveStockResponse{Reservation: out.toProto()}, nil
}

// CommitReservation implements InventoryService.
func (s *Service) CommitReservation(ctx context.Context, req *productv1.CommitReservationRequest) (*productv1.CommitReservationResponse, error) {
	st, err := s.settle(ctx, req.GetId(), committed)
	if err != nil {
		return nil, err
	}
	r := st.r
	if r.Status != committed {
		return nil, errs.FailedPreconditionf("reservation %q was released or expired: its units are back in stock", r.ID)
	}
	if st.moved { // a repeated commit (a retried job, PayOrder and the payment's event) counts once
		s.recordPurchases(ctx, r)
	}
	return &productv1.CommitReservationResponse{Reservation: r.toProto()}, nil
}

// ReleaseReservation implements InventoryService.
func (s *Service) ReleaseReservation(ctx context.Context, req *productv1.ReleaseReservationRequest) (*productv1.ReleaseReservationResponse, error) {
	st, err := s.settle(ctx, req.GetId(), released)
	if err != nil {
		return nil, err
	}
	r := st.r
	if r.Status != released {
		return nil, errs.FailedPreconditionf("reservation %q is committed: its units are sold", r.ID)
	}
	return &productv1.ReleaseReservationResponse{Reservation: r.toProto()}, nil
}

// ReturnReservation implements InventoryService.
func (s *Service) ReturnReservation(ctx context.Context, req *productv1.ReturnReservationRequest) (*productv1.ReturnReservationResponse, error) {
	st, err := s.settle(ctx, req.GetId(), returned)
	if err != nil {
		return nil, err
	}
	r := st.r
	if r.Status != returned && r.Status != released {
		return nil, errs.FailedPreconditionf("reservation %q is still held: release it instead", r.ID)
	}
	return &productv1.ReturnReservationResponse{Reservation: r.toProto()}, nil
}

// settle settles reservation id as want (see store.settle) and follows
// the stock it gave back.
func (s *Service) settle(ctx context.Context, id string, want int32) (settlement, error) {
	st, err := s.store.settle(ctx, id, want, micros(s.now()))
	if err != nil {
		return st, err
	}
	if st.expired {
		s.log.InfoContext(ctx, "reservation expired; stock returned", "reservation", id)
	}
	s.stockChanged(ctx, st.effect)
	return st, nil
}

// ExpireReservations releases holds past their expiry, up to a batch, and
// reports how many it released.
func (s *Service) ExpireReservations(ctx context.Context) (int, error) {
	ids, err := s.store.expiredReservations(ctx, micros(s.now()), expiryBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := s.settle(ctx, id, released); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// expirePass releases the holds past their expiry, once; the module runs
// it every expiryInterval, and several replicas may run it at once (each
// release is one guarded transaction).
func (s *Service) expirePass(ctx context.Context) {
	if _, err := s.ExpireReservations(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "releasing expired reservations", "err", err)
	}
}

// stockChanged follows a committed stock change: listings and product pages
// show new stock at once, and products that came into or went out of stock
// are re-indexed.
func (s *Service) stockChanged(ctx context.Context, e stockEffect) {
	s.cache.invalidate(ctx)
	for id := range e.crossedZero {
		if row, err := s.store.product(ctx, "id", id); err == nil {
			s.sync(ctx, row)
		}
	}
}

func (r *reservationRow) toProto() *productv1.Reservation {
	p := &productv1.Reservation{
		Id: r.ID, Status: productv1.ReservationStatus(r.Status), ExpireTime: timestamppb.New(time.UnixMicro(r.ExpiresAt)),
	}
	for _, it := range r.Items {
		p.Items = append(p.Items, &productv1.ReservationItem{Sku: it.SKU, Quantity: it.Quantity, SearchId: it.SearchID})
	}
	return p
}

func reservationHash(req *productv1.ReserveStockRequest) string {
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	return digest(clone)
}
