package product

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

var (
	held      = int32(productv1.ReservationStatus_RESERVATION_STATUS_HELD)
	committed = int32(productv1.ReservationStatus_RESERVATION_STATUS_COMMITTED)
	released  = int32(productv1.ReservationStatus_RESERVATION_STATUS_RELEASED)
	returned  = int32(productv1.ReservationStatus_RESERVATION_STATUS_RETURNED)
)

type reservationRow struct {
	bun.BaseModel `bun:"table:stock_reservations,alias:r"`

	ID             string `bun:",pk"`
	Status         int32
	IdempotencyKey string
	RequestHash    string
	ExpiresAt      int64 // Unix µs
	CreatedAt      int64
	UpdatedAt      int64

	Items []*reservationItemRow `bun:"rel:has-many,join:id=reservation_id"`
}

type reservationItemRow struct {
	bun.BaseModel `bun:"table:stock_reservation_items,alias:ri"`

	ReservationID string `bun:",pk"`
	SKU           string `bun:"sku,pk"`
	Quantity      int64
	SearchID      string // the search the SKU was found through, or ""
}

// stockEffect is what a reservation change did to one product's stock:
// whether some variant crossed zero, which changes "in stock".
type stockEffect struct {
	crossedZero map[string]bool // product id → crossed
}

// products lists the products that came into or went out of stock.
func (e *stockEffect) products() []string {
	out := make([]string, 0, len(e.crossedZero))
	for id := range e.crossedZero {
		out = append(out, id)
	}
	return out
}

func (e *stockEffect) note(productID string, before, after int64) {
	if (before > 0) != (after > 0) {
		if e.crossedZero == nil {
			e.crossedZero = map[string]bool{}
		}
		e.crossedZero[productID] = true
	}
}

// reserve holds every item or none. Items are taken in SKU order so two
// reservations never wait on each other's rows in opposite orders.
func (s *store) reserve(ctx context.Context, r *reservationRow) (out *reservationRow, effect stockEffect, err error) {
	slices.SortFunc(r.Items, func(a, b *reservationItemRow) int {
		switch {
		case a.SKU < b.SKU:
			return -1
		case a.SKU > b.SKU:
			return 1
		}
		return 0
	})
	if db.IsPostgres(s.db) {
		switch done, err := s.holdStock(ctx, r); {
		case err != nil:
			return nil, effect, err
		case done:
			return r, effect, nil
		}
	}
	return s.reserveInTx(ctx, r)
}

// reserveInTx is reserve as one transaction from here, on either engine:
// the reference for every case, and the only path on SQLite, whose
// statements cost no round trip.
func (s *store) reserveInTx(ctx context.Context, r *reservationRow) (out *reservationRow, effect stockEffect, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// A first attempt inserts; a retry finds its key taken (on
		// PostgreSQL after the attempt that took it has ended) and answers
		// with what that attempt made.
		res, err := tx.NewInsert().Model(r).On("CONFLICT (idempotency_key) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert reservation: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("insert reservation: %w", err)
			}
			prev := new(reservationRow)
			err := tx.NewSelect().Model(prev).Relation("Items").Where("r.idempotency_key = ?", r.IdempotencyKey).Scan(ctx)
			switch {
			case errors.Is(err, sql.ErrNoRows): // gone again: cannot happen today, as nothing deletes holds
				return errs.Abortedf("a reservation with idempotency_key %q is being made; retry", r.IdempotencyKey)
			case err != nil:
				return fmt.Errorf("read reservation: %w", err)
			case prev.RequestHash != r.RequestHash:
				return errs.Conflictf("idempotency_key %q was already used for a different reservation", r.IdempotencyKey)
			}
			out = prev
			return nil
		}
		for _, it := range r.Items {
			v := new(variantRow)
			err := tx.NewUpdate().Model(v).
				Set("stock = stock - ?", it.Quantity).
				Where("sku = ?", it.SKU).
				Where("stock >= ?", it.Quantity).
				Returning("sku, product_id, stock").
				Scan(ctx)
			if errors.Is(err, sql.ErrNoRows) {
				return stockRefusal(ctx, tx, stockChange{SKU: it.SKU, Delta: -it.Quantity})
			}
			if err != nil {
				return fmt.Errorf("hold stock: %w", err)
			}
			effect.note(v.ProductID, v.Stock+it.Quantity, v.Stock)
			if err := recordMovement(ctx, tx, it.SKU, -it.Quantity, "reserve "+r.ID, v.Stock, r.CreatedAt); err != nil {
				return err
			}
		}
		if _, err := tx.NewInsert().Model(&r.Items).Exec(ctx); err != nil {
			return fmt.Errorf("insert reservation items: %w", err)
		}
		out = r
		return s.changed(ctx, tx, effect.products()...)
	})
	return out, effect, err
}

// holdStock is reserve's fast path on PostgreSQL: the usual hold, a new key
// and no SKU running out, in one call of the hold_stock function
// (migrations/0008_hold_stock.pg.sql), which writes what the transaction in
// reserve would. done is false when the hold is not usual; then it changed
// nothing and reserve's transaction answers.
func (s *store) holdStock(ctx context.Context, r *reservationRow) (done bool, err error) {
	n := len(r.Items)
	skus, quantities := make([]string, n), make([]int64, n)
	searchIDs, movementIDs := make([]string, n), make([]string, n)
	for i, it := range r.Items {
		skus[i], quantities[i], searchIDs[i], movementIDs[i] = it.SKU, it.Quantity, it.SearchID, newID()
	}
	err = s.db.NewRaw("SELECT hold_stock(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.Status, r.IdempotencyKey, r.RequestHash, r.ExpiresAt, r.CreatedAt, movementActor(ctx),
		pgdialect.Array(skus), pgdialect.Array(quantities), pgdialect.Array(searchIDs), pgdialect.Array(movementIDs),
	).Scan(ctx, &done)
	if db.HasPostgresCode(err, holdNeedsTransaction) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hold stock: %w", err)
	}
	return done, nil
}

// holdNeedsTransaction is the SQLSTATE hold_stock raises when a SKU is
// missing or would run out.
const holdNeedsTransaction = "EMH01"

// settle moves a held reservation to committed or released at now, or a
// committed one to returned. A hold past its expiry is released whatever
// was asked, and expired reports it. A reservation already settled
// otherwise is returned unchanged: the caller decides whether that is fine.
func (s *store) settle(ctx context.Context, id string, want int32, now int64) (out settlement, err error) {
	if want == committed {
		// The usual case, a live hold being sold, in one statement: no
		// stock moves. Anything else (unknown, expired, settled) takes the
		// path below, which finds out which.
		if out.r, err = s.commitHeld(ctx, id, now); out.r != nil || err != nil {
			out.moved = out.r != nil
			return out, err
		}
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r := new(reservationRow)
		q := tx.NewSelect().Model(r).Relation("Items").Where("r.id = ?", id)
		if db.IsPostgres(s.db) {
			q.For("UPDATE OF r")
		}
		if err := q.Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("reservation %q not found", id)
			}
			return fmt.Errorf("read reservation: %w", err)
		}
		out.r = r
		status := want
		switch {
		case r.Status == held && want == returned:
			return nil // never sold: nothing to return
		case r.Status == held && r.ExpiresAt <= now:
			status, out.expired = released, true
		case r.Status == committed && want == returned:
		case r.Status != held:
			return nil
		}
		if status == released || status == returned {
			if err := giveBack(ctx, tx, r, status, now, &out.effect); err != nil {
				return err
			}
		}
		r.Status, r.UpdatedAt = status, now
		if _, err := tx.NewUpdate().Model(r).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		out.moved = true
		return s.changed(ctx, tx, out.effect.products()...)
	})
	return out, err
}

// settlement is what store.settle did: the reservation as it now stands,
// whether this call changed its status (moved), the stock that came back,
// and whether it had expired.
type settlement struct {
	r       *reservationRow
	moved   bool
	effect  stockEffect
	expired bool
}

// commitHeld commits reservation id if it is held and not past its expiry,
// and returns it with its items; nil when it is not.
func (s *store) commitHeld(ctx context.Context, id string, now int64) (*reservationRow, error) {
	// Once per checkout, so its statements go with their arguments apart
	// (db.Args); on PostgreSQL the items come back with the update, in
	// one round trip.
	r := new(reservationRow)
	a := db.NewArgs(s.db)
	q := s.db.NewUpdate().Model(r).
		Set("status = ?", a.Arg(committed)).Set("updated_at = ?", a.Arg(now)).
		Where("r.id = ?", a.Arg(id)).Where("r.status = ?", a.Arg(held)).Where("r.expires_at > ?", a.Arg(now))
	var err error
	if db.IsPostgres(s.db) {
		c := new(committedHold)
		if err = a.Scan(ctx, s.db, q.Returning("r.*, ("+itemsJSON+") AS items_json"), c); err == nil {
			r = &c.reservationRow
			err = json.Unmarshal([]byte(c.ItemsJSON), &r.Items)
		}
	} else if err = a.Scan(ctx, s.db, q.Returning("*"), r); err == nil {
		a = db.NewArgs(s.db)
		err = a.Scan(ctx, s.db, s.db.NewSelect().Model(&r.Items).Where("ri.reservation_id = ?", a.Arg(id)), &r.Items)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("commit reservation: %w", err)
	}
	return r, nil
}

// committedHold is a reservation as commitHeld's PostgreSQL statement
// returns it: the row, and its items as a JSON array (itemsJSON).
type committedHold struct {
	reservationRow `bun:",extend"`
	ItemsJSON      string `bun:"items_json"`
}

// itemsJSON is the items of reservation r as a JSON array of
// reservationItemRow, in SKU order (PostgreSQL).
const itemsJSON = `SELECT coalesce(json_agg(json_build_object('ReservationID', ri.reservation_id, 'SKU', ri.sku,
	'Quantity', ri.quantity, 'SearchID', ri.search_id) ORDER BY ri.sku), '[]')
	FROM stock_reservation_items AS ri WHERE ri.reservation_id = r.id`

// giveBack puts a reservation's units back in stock, in the ledger too.
func giveBack(ctx context.Context, tx bun.Tx, r *reservationRow, status int32, now int64, effect *stockEffect) error {
	reason := "release "
	if status == returned {
		reason = "return "
	}
	for _, it := range r.Items {
		v := new(variantRow)
		err := tx.NewUpdate().Model(v).Set("stock = stock + ?", it.Quantity).Where("sku = ?", it.SKU).
			Returning("sku, product_id, stock").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the variant was removed since: nothing to give back to
		}
		if err != nil {
			return fmt.Errorf("return stock: %w", err)
		}
		effect.note(v.ProductID, v.Stock-it.Quantity, v.Stock)
		if err := recordMovement(ctx, tx, it.SKU, it.Quantity, reason+r.ID, v.Stock, now); err != nil {
			return err
		}
	}
	return nil
}

// expiredReservations lists up to limit held reservations past expiry.
func (s *store) expiredReservations(ctx context.Context, now int64, limit int) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*reservationRow)(nil)).Column("id").
		Where("r.status = ?", held).Where("r.expires_at <= ?", now).
		Order("r.expires_at").Limit(int64(limit)).Scan(ctx, &ids)
	return ids, err
}

// movementActor is who a stock movement is recorded for: the caller, or
// "system" for the expiry loop, acting for nobody.
func movementActor(ctx context.Context) string {
	if who := actor(ctx); who != "" {
		return who
	}
	return "system"
}

func recordMovement(ctx context.Context, tx bun.Tx, sku string, delta int64, reason string, after, at int64) error {
	m := &stockMovementRow{ID: newID(), SKU: sku, Delta: delta, Reason: reason, OnHandAfter: after, CreatedAt: at, Actor: movementActor(ctx)}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return fmt.Errorf("record stock movement: %w", err)
	}
	return nil
}
