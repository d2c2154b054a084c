package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the order service. It works the same on SQLite
// and PostgreSQL. Methods taking a bun.Tx, or a bun.IDB (named …Tx), run
// inside the caller's transaction, begun with tx; the others on the
// database.
type store struct {
	db *bun.DB
}

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must not call other services or read through the
// store's other methods: on SQLite the transaction holds the only
// connection, and every other request waits for it.
func (s *store) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// Carts.

// customerCart reads a signed-in shopper's cart; nil when they have none
// yet.
func (s *store) customerCart(ctx context.Context, customerID string) (*cartRow, error) {
	return s.customerCartTx(ctx, s.db, customerID, false)
}

// customerCartTx is customerCart read with idb; with lock (in a
// transaction), the row is also held until it ends.
func (s *store) customerCartTx(ctx context.Context, idb bun.IDB, customerID string, lock bool) (*cartRow, error) {
	c := new(cartRow)
	a := db.NewArgs(idb)
	err := a.Scan(ctx, idb, forUpdate(idb.NewSelect().Model(c).Where("c.customer_id = ?", a.Arg(customerID)), idb, lock), c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read cart: %w", err)
	}
	return c, nil
}

// checkoutCart reads what a checkout with key starts from, in one
// statement: the customer's cart (nil when they have none yet) and whether
// an earlier attempt with the same key placed an order. One statement
// reads one snapshot, so a cart emptied by that attempt comes with its
// order.
func (s *store) checkoutCart(ctx context.Context, customerID, key string) (c *cartRow, placed bool, err error) {
	row := new(checkoutCartRow)
	a := db.NewArgs(s.db)
	q := s.db.NewSelect().Model(row).ColumnExpr("c.*").
		ColumnExpr("EXISTS (SELECT 1 FROM orders AS o WHERE o.customer_id = ? AND o.idempotency_key = ?) AS placed", a.Arg(customerID), a.Arg(key)).
		Where("c.customer_id = ?", a.Arg(customerID))
	err = a.Scan(ctx, s.db, q, row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read cart: %w", err)
	}
	return &row.cartRow, row.Placed, nil
}

// checkoutCartRow is checkoutCart's row.
type checkoutCartRow struct {
	cartRow `bun:",extend"`
	Placed  bool
}

// createCustomerCart stores c, the new cart of c.CustomerID, unless a
// concurrent request made theirs first, and returns the cart the customer
// has now, held until tx ends.
func (s *store) createCustomerCart(ctx context.Context, tx bun.Tx, c *cartRow) (*cartRow, error) {
	if _, err := tx.NewInsert().Model(c).On("CONFLICT (customer_id) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("create cart: %w", err)
	}
	if err := forUpdate(tx.NewSelect().Model(c).Where("c.customer_id = ?", *c.CustomerID), tx, true).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	return c, nil
}

// guestCart reads the guest cart whose token hashes to tokenHash, merged or
// not; errs.NotFound when there is none.
func (s *store) guestCart(ctx context.Context, tokenHash string) (*cartRow, error) {
	return s.guestCartTx(ctx, s.db, tokenHash, false)
}

// guestCartTx is guestCart read with idb; with lock (in a transaction), the
// row is also held until it ends.
func (s *store) guestCartTx(ctx context.Context, idb bun.IDB, tokenHash string, lock bool) (*cartRow, error) {
	c := new(cartRow)
	a := db.NewArgs(idb)
	if err := a.Scan(ctx, idb, forUpdate(idb.NewSelect().Model(c).Where("c.token_hash = ?", a.Arg(tokenHash)), idb, lock), c); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("cart not found: the cart_token is unknown")
		}
		return nil, fmt.Errorf("read cart: %w", err)
	}
	return c, nil
}

// insertCart stores a new guest cart.
func (s *store) insertCart(ctx context.Context, tx bun.Tx, c *cartRow) error {
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("create cart: %w", err)
	}
	return nil
}

// errCartChanged is a cart write refused because the cart changed (or a
// shopper's first cart was made) since the read it was based on.
var errCartChanged = errs.Abortedf("the cart changed while it was being updated; try again")

// createCart stores a new cart, made without a transaction; errCartChanged
// when the shopper's cart was made meanwhile.
func (s *store) createCart(ctx context.Context, c *cartRow) error {
	res, err := s.db.NewInsert().Model(c).On("CONFLICT DO NOTHING").Exec(ctx)
	return db.ChangedRow(res, err, "create cart", errCartChanged)
}

// updateCart writes c's lines, discount code and update time, and counts
// its version, unless it changed since c was read (errCartChanged).
func (s *store) updateCart(ctx context.Context, idb bun.IDB, c *cartRow) error {
	// Twice per checkout: sent with its arguments apart (db.Args).
	a := db.NewArgs(idb)
	q, err := cartUpdate(idb, a, c)
	if err != nil {
		return err
	}
	res, err := a.Exec(ctx, idb, q)
	if err := db.ChangedRow(res, err, "update cart", errCartChanged); err != nil {
		return err
	}
	c.Version++
	return nil
}

// cartUpdate is updateCart's statement, its arguments through a.
func cartUpdate(idb bun.IDB, a *db.Args, c *cartRow) (*bun.UpdateQuery, error) {
	if c.Lines == nil {
		c.Lines = []*cartLine{} // [], not JSON null
	}
	lines, err := json.Marshal(c.Lines)
	if err != nil {
		return nil, fmt.Errorf("update cart: %w", err)
	}
	return idb.NewUpdate().Model((*cartRow)(nil)).
		Set("updated_at = ?", a.Arg(c.UpdatedAt)).Set("discount_code = ?", a.Arg(c.DiscountCode)).Set("lines = ?", a.Arg(string(lines))).
		Set("version = version + 1").Where("id = ?", a.Arg(c.ID)).Where("version = ?", a.Arg(c.Version)), nil
}

// retireCart records that guest cart c was merged (c.MergedInto), and
// empties it.
func (s *store) retireCart(ctx context.Context, tx bun.Tx, c *cartRow) error {
	c.Lines = nil
	if _, err := tx.NewUpdate().Model(c).Column("merged_into", "updated_at", "lines").
		Set("version = version + 1").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("retire guest cart: %w", err)
	}
	return nil
}

// forUpdate makes q hold the rows it reads until the transaction ends when
// lock is set, so that concurrent changes to one cart take turns instead of
// overwriting each other (PostgreSQL; SQLite's single writer already
// serializes them).
func forUpdate(q *bun.SelectQuery, idb bun.IDB, lock bool) *bun.SelectQuery {
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE")
	}
	return q
}

// Discounts.

// discountByCode reads the discount with a code (normalized); nil when
// there is none.
func (s *store) discountByCode(ctx context.Context, code string) (*discountRow, error) {
	d := new(discountRow)
	err := s.db.NewSelect().Model(d).Where("d.code = ?", code).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read discount: %w", err)
	}
	return d, nil
}

// discount reads a discount by id.
func (s *store) discount(ctx context.Context, id string) (*discountRow, error) {
	d := new(discountRow)
	if err := s.db.NewSelect().Model(d).Where("d.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("discount %q not found", id)
		}
		return nil, fmt.Errorf("read discount: %w", err)
	}
	return d, nil
}

// insertDiscount stores a new discount; its code must be new.
func (s *store) insertDiscount(ctx context.Context, d *discountRow) error {
	if _, err := s.db.NewInsert().Model(d).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return errs.Conflictf("discount code %q already exists", d.Code)
		}
		return fmt.Errorf("insert discount: %w", err)
	}
	return nil
}

// listDiscounts pages discounts newest first, from after (nil: the
// first page).
func (s *store) listDiscounts(ctx context.Context, after *discountCursor, limit int) ([]*discountRow, error) {
	q := s.db.NewSelect().Model((*discountRow)(nil)).OrderExpr("d.created_at DESC, d.id DESC").Limit(int64(limit))
	if after != nil {
		q.Where("(d.created_at < ?) OR (d.created_at = ? AND d.id < ?)", after.CreatedAt, after.CreatedAt, after.ID)
	}
	var rows []*discountRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list discounts: %w", err)
	}
	return rows, nil
}

// discountChange is what UpdateDiscount changes; nil fields stay as they
// are.
type discountChange struct {
	Active         *bool
	MaxRedemptions *int64
	Description    *string
	EndsAt         *int64
}

// updateDiscount writes change to discount d at now.
func (s *store) updateDiscount(ctx context.Context, d *discountRow, change discountChange, now int64) error {
	q := s.db.NewUpdate().Model(d).WherePK().Set("updated_at = ?", now)
	if change.Active != nil {
		q.Set("active = ?", *change.Active)
	}
	if change.MaxRedemptions != nil {
		q.Set("max_redemptions = ?", *change.MaxRedemptions)
	}
	if change.Description != nil {
		q.Set("description = ?", *change.Description)
	}
	if change.EndsAt != nil {
		q.Set("ends_at = ?", *change.EndsAt)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("update discount: %w", err)
	}
	return nil
}

// redeem counts one use of discount id, unless it is used up, and reports
// whether it did.
func (s *store) redeem(ctx context.Context, tx bun.Tx, id string) (bool, error) {
	res, err := tx.NewUpdate().Model((*discountRow)(nil)).Set("redemptions = redemptions + 1").
		Where("id = ?", id).Where("max_redemptions = 0 OR redemptions < max_redemptions").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("redeem discount: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// unredeem gives back one use of discount id.
func (s *store) unredeem(ctx context.Context, tx bun.Tx, id string) error {
	_, err := tx.NewUpdate().Model((*discountRow)(nil)).Set("redemptions = redemptions - 1").
		Where("id = ? AND redemptions > 0", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("give back discount redemption: %w", err)
	}
	return nil
}

// Orders.

// order reads an order (lines and history included).
func (s *store) order(ctx context.Context, id string) (*orderRow, error) {
	return readOrder(ctx, s.db, id, false)
}

// readOrder reads an order; lock takes its row for the rest of tx
// (PostgreSQL; SQLite's single writer needs none).
func readOrder(ctx context.Context, idb bun.IDB, id string, lock bool) (*orderRow, error) {
	o := new(orderRow)
	a := db.NewArgs(idb)
	q := idb.NewSelect().Model(o).Where("o.id = ?", a.Arg(id))
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE OF o")
	}
	if err := a.Scan(ctx, idb, q, o); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("order %q not found", id)
		}
		return nil, fmt.Errorf("read order: %w", err)
	}
	return o, nil
}

// changeOrder runs change on order id, its row locked, in a transaction of
// its own, and returns the order as change left it (also when change fails,
// for callers that answer with it).
func (s *store) changeOrder(ctx context.Context, id string, change func(ctx context.Context, tx bun.Tx, o *orderRow) error) (*orderRow, error) {
	var out *orderRow
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := readOrder(ctx, tx, id, true)
		if err != nil {
			return err
		}
		out = o
		return change(ctx, tx, o)
	})
	return out, err
}

// changeReadOrder is changeOrder for order o that the caller has just read
// (not locked): change runs on a copy of it in a transaction without
// reading it again, since updateOrder's version guard notices a change
// made meanwhile. When there was one, or when change wrote nothing (its
// decision may rest on what changed), it is made as changeOrder makes it.
func (s *store) changeReadOrder(ctx context.Context, o *orderRow, change func(ctx context.Context, tx bun.Tx, o *orderRow) error) (*orderRow, error) {
	c := *o
	c.History = slices.Clone(o.History)
	err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := change(ctx, tx, &c); err != nil {
			return err
		}
		if c.Version == o.Version {
			return errStaleOrder // nothing written: roll back, decide on the row as it is
		}
		return nil
	})
	if errors.Is(err, errStaleOrder) {
		return s.changeOrder(ctx, o.ID, change)
	}
	return &c, err
}

// updateOrder writes o's status, refunded total, payment and history,
// guarded by its version so a concurrent change is noticed (errs.Aborted),
// and counts the new version on o.
func (s *store) updateOrder(ctx context.Context, tx bun.Tx, o *orderRow) error {
	history, err := json.Marshal(o.History)
	if err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	// Once or more per order: sent with its arguments apart (db.Args).
	a := db.NewArgs(tx)
	res, err := a.Exec(ctx, tx, tx.NewUpdate().Model((*orderRow)(nil)).
		Set("status = ?", a.Arg(int32(o.Status))).Set("refunded_total = ?", a.Arg(o.RefundedTotal)).
		Set("payment_id = ?", a.Arg(o.PaymentID)).Set("history = ?", a.Arg(string(history))).
		Set("updated_at = ?", a.Arg(o.UpdatedAt)).Set("version = version + 1").
		Where("id = ?", a.Arg(o.ID)).Where("version = ?", a.Arg(o.Version)))
	stale := &errs.Error{Kind: errs.Aborted, Message: fmt.Sprintf("order %s changed at the same time; try again", o.Number), Err: errStaleOrder}
	if err := db.ChangedRow(res, err, "update order", stale); err != nil {
		return err
	}
	o.Version++
	return nil
}

// errStaleOrder is the cause of updateOrder's refusal.
var errStaleOrder = errors.New("the order's version moved on since it was read")

// insertOrder stores a new order. A unique violation (the checkout's
// idempotency key taken) comes back as is, for db.IsUniqueViolation.
func (s *store) insertOrder(ctx context.Context, tx bun.Tx, o *orderRow) error {
	_, err := tx.NewInsert().Model(o).Exec(ctx)
	return err
}

// insertOrderWritingCart stores new order o and writes cart c as
// updateCart does, in one statement: the order is inserted only when the
// cart's update matched (errCartChanged when it did not), and a unique
// violation (for db.IsUniqueViolation) undoes the cart's update.
// PostgreSQL only (SQLite's WITH takes no UPDATE): there it saves a
// checkout the transaction's BEGIN and COMMIT and a round trip.
func (s *store) insertOrderWritingCart(ctx context.Context, o *orderRow, c *cartRow) error {
	a := db.NewArgs(s.db)
	update, err := cartUpdate(s.db, a, c)
	if err != nil {
		return err
	}
	lines, err := json.Marshal(o.Lines)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	history, err := json.Marshal(o.History)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	cols, vals, err := a.Values(s.db, o, map[string]any{"lines": string(lines), "history": string(history)})
	if err != nil {
		return err
	}
	res, err := a.Exec(ctx, s.db, s.db.NewRaw("WITH written AS (?) INSERT INTO orders (?) SELECT ? FROM written",
		update.Returning("1"), bun.Safe(cols), bun.List(vals)))
	if err := db.ChangedRow(res, err, "insert order", errCartChanged); err != nil {
		return err
	}
	c.Version++
	return nil
}

// orderByKey reads the order a customer's checkout with key made; nil when
// there is none.
func (s *store) orderByKey(ctx context.Context, customer, key string) (*orderRow, error) {
	o := new(orderRow)
	a := db.NewArgs(s.db)
	err := a.Scan(ctx, s.db, s.db.NewSelect().Model(o).Where("o.customer_id = ? AND o.idempotency_key = ?", a.Arg(customer), a.Arg(key)), o)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read order: %w", err)
	}
	return o, nil
}

// setPayment records an order's payment, unless it has one already.
func (s *store) setPayment(ctx context.Context, orderID, paymentID string) error {
	a := db.NewArgs(s.db)
	if _, err := a.Exec(ctx, s.db, s.db.NewUpdate().Model((*orderRow)(nil)).Set("payment_id = ?", a.Arg(paymentID)).
		Where("id = ? AND payment_id = ''", a.Arg(orderID))); err != nil {
		return fmt.Errorf("record payment: %w", err)
	}
	return nil
}

// orderFilter narrows a list of orders.
type orderFilter struct {
	Statuses      []status
	CustomerID    string
	CreatedAfter  *int64 // micros, included
	CreatedBefore *int64 // micros, excluded
	// Query is an order number or id, or part of the ship-to name.
	Query string
	After *orderCursor // keyset position, nil for the first page
	Limit int
}

// listOrders pages orders matching f, newest first.
func (s *store) listOrders(ctx context.Context, f orderFilter) ([]*orderRow, error) {
	var rows []*orderRow
	q := s.db.NewSelect().Model(&rows).
		OrderExpr("o.created_at DESC, o.id DESC").Limit(int64(f.Limit))
	if len(f.Statuses) > 0 {
		q.Where("o.status IN (?)", bun.List(f.Statuses))
	}
	if f.CustomerID != "" {
		q.Where("o.customer_id = ?", f.CustomerID)
	}
	if f.CreatedAfter != nil {
		q.Where("o.created_at >= ?", *f.CreatedAfter)
	}
	if f.CreatedBefore != nil {
		q.Where("o.created_at < ?", *f.CreatedBefore)
	}
	if text := f.Query; text != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(text)) + "%"
		q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("o.number = ?", strings.ToUpper(text)).WhereOr("o.id = ?", text).
				WhereOr(`o.ship_name LIKE ? ESCAPE '\'`, like)
		})
	}
	if c := f.After; c != nil {
		q.Where("(o.created_at < ?) OR (o.created_at = ? AND o.id < ?)", c.CreatedAt, c.CreatedAt, c.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return rows, nil
}

// refundRequest reads the RefundOrder an order had with key; nil when there
// is none.
func (s *store) refundRequest(ctx context.Context, orderID, key string) (*orderRefundRow, error) {
	r := new(orderRefundRow)
	err := s.db.NewSelect().Model(r).Where("orf.order_id = ? AND orf.idempotency_key = ?", orderID, key).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read refund: %w", err)
	}
	return r, nil
}

// insertRefundRequest records a RefundOrder. A unique violation (the key
// taken by a concurrent retry) comes back as is, for db.IsUniqueViolation.
func (s *store) insertRefundRequest(ctx context.Context, r *orderRefundRow) error {
	if _, err := s.db.NewInsert().Model(r).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return err
		}
		return fmt.Errorf("record refund: %w", err)
	}
	return nil
}

// expiring is a pending order's place in the expiry sweep's order.
type expiring struct {
	ID        string
	ExpiresAt int64
}

// expiredOrders lists up to limit pending orders whose payment window
// ended at or before now, oldest deadline first, after the one given (nil:
// from the start). The partial index orders_expiry holds pending orders
// only, so the sweep reads no paid ones.
func (s *store) expiredOrders(ctx context.Context, now int64, after *expiring, limit int) ([]*expiring, error) {
	var out []*expiring
	if err := expiredOrdersQuery(s.db, now, after, limit).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list expired orders: %w", err)
	}
	return out, nil
}

func expiredOrdersQuery(idb bun.IDB, now int64, after *expiring, limit int) *bun.SelectQuery {
	q := idb.NewSelect().Model((*orderRow)(nil)).Column("id", "expires_at").
		Where("o.status = ?", pendingPayment).Where("o.expires_at <= ?", now).
		OrderExpr("o.expires_at, o.id").Limit(int64(limit))
	if after != nil {
		q.Where("(o.expires_at, o.id) > (?, ?)", after.ExpiresAt, after.ID)
	}
	return q
}
