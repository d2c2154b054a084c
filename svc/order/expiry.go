package order

import (
	"context"
	"time"
)

// Orders not paid within the payment window are canceled by a sweep that
// every replica runs (each cancellation is guarded by the order's state, so
// two replicas canceling one order change it once), instead of a River job
// scheduled per order: a job's insert is the costliest write of a checkout,
// and nearly every such job would later run only to find its order paid.
// Jobs queued by earlier versions still run (the order_expire worker).

const (
	// maxSweepInterval bounds how late past its window an order is canceled.
	// Stock stays held holdGrace longer than the window, so a payment made
	// in that time still finds it.
	maxSweepInterval = 30 * time.Second
	// expiryBatch is how many orders one query of a sweep reads.
	expiryBatch = 100
)

// sweepInterval is how often expired orders are looked for: a tenth of the
// payment window, between 100 ms and maxSweepInterval.
func sweepInterval(window time.Duration) time.Duration {
	return min(maxSweepInterval, max(window/10, 100*time.Millisecond))
}

// ExpireOrders cancels every pending order past its payment window and
// reports how many it canceled. An order that cannot be canceled now (the
// payment service is down) is logged and left for the next sweep; the
// others are canceled all the same.
func (s *Service) ExpireOrders(ctx context.Context) (int, error) {
	now := micros(s.now())
	n := 0
	var after *expiring
	for {
		batch, err := s.store.expiredOrders(ctx, now, after, expiryBatch)
		if err != nil {
			return n, err
		}
		for _, o := range batch {
			if err := s.expire(ctx, o.ID); err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				s.log.ErrorContext(ctx, "canceling an order not paid in time; trying again at the next sweep", "order", o.ID, "err", err)
				continue
			}
			n++
		}
		if len(batch) < expiryBatch {
			return n, nil
		}
		after = batch[len(batch)-1]
	}
}

// sweep is one pass of the expiry sweep, which Start runs every
// sweepInterval.
func (s *Service) sweep(ctx context.Context) {
	if _, err := s.ExpireOrders(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "looking for orders not paid in time", "err", err)
	}
}
