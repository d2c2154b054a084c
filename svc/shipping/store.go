package shipping

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the shipping service. It works the same on
// SQLite and PostgreSQL. Methods taking a bun.Tx, or a bun.IDB (named
// …Tx), run inside the caller's transaction, begun with tx; the others on
// the database.
type store struct {
	db *bun.DB
}

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must not call carriers or other services: on SQLite
// the transaction holds the only connection.
func (s *store) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// withAll loads a shipment's order, items and events (oldest first).
func withAll(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Relation("Order").Relation("Items", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Order("i.sku")
	}).Relation("Events", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Order("e.at", "e.status")
	})
}

// shipment reads one shipment with its order, items and events.
func (s *store) shipment(ctx context.Context, id string) (*shipmentRow, error) {
	row := new(shipmentRow)
	if err := withAll(s.db.NewSelect().Model(row)).Where("s.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("shipment %q not found", id)
		}
		return nil, fmt.Errorf("read shipment: %w", err)
	}
	return row, nil
}

// shipmentsByKey reads the shipments one CreateShipment idempotency key
// made, in parcel order; none when the key is new.
func (s *store) shipmentsByKey(ctx context.Context, key string) ([]*shipmentRow, error) {
	return s.shipmentsByKeyTx(ctx, s.db, key)
}

func (s *store) shipmentsByKeyTx(ctx context.Context, idb bun.IDB, key string) ([]*shipmentRow, error) {
	var rows []*shipmentRow
	if err := withAll(idb.NewSelect().Model(&rows)).Where("s.idempotency_key = ?", key).Order("s.parcel_index").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	return rows, nil
}

// orderShipments reads an order's shipments, oldest first.
func (s *store) orderShipments(ctx context.Context, orderID string) ([]*shipmentRow, error) {
	var rows []*shipmentRow
	if err := withAll(s.db.NewSelect().Model(&rows)).Where("s.order_id = ?", orderID).
		Order("s.created_at", "s.parcel_index", "s.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	return rows, nil
}

// lockOrder records the order (once) and locks its row for the rest of tx
// on PostgreSQL, so changes to one order's shipments happen one at a time.
// SQLite transactions hold the only connection anyway.
func (s *store) lockOrder(ctx context.Context, tx bun.Tx, o *orderRow) error {
	if _, err := tx.NewInsert().Model(o).On("CONFLICT (order_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("record order: %w", err)
	}
	q := tx.NewSelect().Model((*orderRow)(nil)).Column("order_id").Where("order_id = ?", o.OrderID)
	if db.IsPostgres(tx) {
		q.For("UPDATE")
	}
	var id string
	if err := q.Scan(ctx, &id); err != nil {
		return fmt.Errorf("lock order: %w", err)
	}
	return nil
}

// order reads the order a shipment was recorded for, inside tx.
func (s *store) order(ctx context.Context, tx bun.Tx, orderID string) (*orderRow, error) {
	o := new(orderRow)
	if err := tx.NewSelect().Model(o).Where("o.order_id = ?", orderID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read order %s: %w", orderID, err)
	}
	return o, nil
}

// undelivered counts an order's shipments neither delivered nor voided.
func (s *store) undelivered(ctx context.Context, tx bun.Tx, orderID string) (int64, error) {
	n, err := tx.NewSelect().Model((*shipmentRow)(nil)).
		Where("order_id = ?", orderID).Where("status NOT IN (?)", bun.List([]int32{statusDelivered, statusVoided})).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count undelivered shipments: %w", err)
	}
	return n, nil
}

// shippedQuantities sums the items of an order's shipments that are not
// voided, by SKU.
func (s *store) shippedQuantities(ctx context.Context, idb bun.IDB, orderID string) (map[string]int64, error) {
	var sums []struct {
		SKU   string `bun:"sku"`
		Total int64  `bun:"total"`
	}
	err := idb.NewSelect().TableExpr("shipment_items AS i").
		Join("JOIN shipments AS s ON s.id = i.shipment_id").
		ColumnExpr("i.sku AS sku, SUM(i.quantity) AS total").
		Where("s.order_id = ?", orderID).Where("s.status <> ?", statusVoided).
		Group("i.sku").Scan(ctx, &sums)
	if err != nil {
		return nil, fmt.Errorf("sum shipped items: %w", err)
	}
	out := make(map[string]int64, len(sums))
	for _, r := range sums {
		out[r.SKU] = r.Total
	}
	return out, nil
}

// insertShipment stores a new shipment and its items. A unique violation
// (its idempotency key and parcel taken) comes back as is.
func (s *store) insertShipment(ctx context.Context, tx bun.Tx, r *shipmentRow) error {
	if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return err
		}
		return fmt.Errorf("insert shipment: %w", err)
	}
	if _, err := tx.NewInsert().Model(&r.Items).Exec(ctx); err != nil {
		return fmt.Errorf("insert shipment items: %w", err)
	}
	return nil
}

// recordLabel notes a bought label on a pending shipment that has none yet,
// and reports whether it did (a concurrent retry may have been first).
func (s *store) recordLabel(ctx context.Context, r *shipmentRow, now int64) (bool, error) {
	res, err := s.db.NewUpdate().Model(r).
		Column("tracking_number", "carrier_shipment_id", "label_key", "label_cost", "currency").
		Set("updated_at = ?", now).
		WherePK().Where("status = ?", statusPending).Where("tracking_number = ''").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record label: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// setStatus moves a shipment from one of from to status, and reports
// whether it did.
func (s *store) setStatus(ctx context.Context, tx bun.Tx, id string, from []int32, status int32, now int64) (bool, error) {
	res, err := tx.NewUpdate().Model((*shipmentRow)(nil)).
		Set("status = ?", status).Set("updated_at = ?", now).
		Where("id = ?", id).Where("status IN (?)", bun.List(from)).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("update shipment: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// deletePending removes shipments still pending (with their items and
// events), for a CreateShipment the carrier refused.
func (s *store) deletePending(ctx context.Context, tx bun.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, q := range []*bun.DeleteQuery{
		tx.NewDelete().Model((*itemRow)(nil)).Where("shipment_id IN (?)", bun.List(ids)),
		tx.NewDelete().Model((*eventRow)(nil)).Where("shipment_id IN (?)", bun.List(ids)),
		tx.NewDelete().Model((*shipmentRow)(nil)).Where("id IN (?)", bun.List(ids)).Where("status = ?", statusPending),
	} {
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("delete refused shipments: %w", err)
		}
	}
	return nil
}

// addEvents records tracking events; ones already recorded are skipped.
func (s *store) addEvents(ctx context.Context, tx bun.Tx, evs []*eventRow) error {
	if len(evs) == 0 {
		return nil
	}
	if _, err := tx.NewInsert().Model(&evs).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("record tracking events: %w", err)
	}
	return nil
}

// lockShipment reads a shipment's id, order and status inside tx, its row
// taken for the rest of tx on PostgreSQL (SQLite's single writer needs
// none).
func (s *store) lockShipment(ctx context.Context, tx bun.Tx, id string) (*shipmentRow, error) {
	cur := new(shipmentRow)
	q := tx.NewSelect().Model(cur).Column("id", "order_id", "status").Where("s.id = ?", id)
	if db.IsPostgres(tx) {
		q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read shipment %s: %w", id, err)
	}
	return cur, nil
}

// notePolled records that a shipment's carrier was heard from at now and,
// when status is not 0, moves the shipment to it.
func (s *store) notePolled(ctx context.Context, tx bun.Tx, id string, now int64, status int32) error {
	q := tx.NewUpdate().Model((*shipmentRow)(nil)).Set("polled_at = ?", now).Where("id = ?", id)
	if status != 0 {
		q.Set("status = ?", status).Set("updated_at = ?", now)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("update shipment %s: %w", id, err)
	}
	return nil
}

// latestEventStatus is the status of a shipment's newest event; 0 when it
// has none.
func (s *store) latestEventStatus(ctx context.Context, idb bun.IDB, id string) (int32, error) {
	var st []int32
	err := idb.NewSelect().Model((*eventRow)(nil)).Column("status").Where("shipment_id = ?", id).
		OrderExpr("at DESC, status DESC").Limit(1).Scan(ctx, &st)
	if err != nil {
		return 0, fmt.Errorf("read tracking events: %w", err)
	}
	if len(st) == 0 {
		return 0, nil
	}
	return st[0], nil
}

// dueForPoll lists shipments with their carriers and on their way, the
// longest-unasked first.
func (s *store) dueForPoll(ctx context.Context, limit int) ([]*shipmentRow, error) {
	var rows []*shipmentRow
	err := s.db.NewSelect().Model(&rows).Column("id", "carrier", "tracking_number").
		Where("status IN (?)", bun.List(trackedStatuses)).
		Order("polled_at", "id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list shipments to track: %w", err)
	}
	return rows, nil
}

// shipmentByTracking reads the shipment of a carrier's tracking number.
func (s *store) shipmentByTracking(ctx context.Context, carrier, number string) (string, error) {
	var id string
	err := s.db.NewSelect().Model((*shipmentRow)(nil)).Column("id").
		Where("carrier = ?", carrier).Where("tracking_number = ?", number).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFoundf("no shipment has tracking number %q", number)
	}
	if err != nil {
		return "", fmt.Errorf("read shipment: %w", err)
	}
	return id, nil
}

// shipmentFilter narrows ListShipments; zero fields match everything.
type shipmentFilter struct {
	OrderID  string
	Carrier  string
	Statuses []int32
	After    *shipmentCursor // keyset position, nil for the first page
	Limit    int
}

// listShipments pages shipments matching f, newest first, with their
// orders, items and events.
func (s *store) listShipments(ctx context.Context, f shipmentFilter) ([]*shipmentRow, error) {
	var rows []*shipmentRow
	q := withAll(s.db.NewSelect().Model(&rows)).OrderExpr("s.created_at DESC, s.id DESC").Limit(int64(f.Limit))
	if f.OrderID != "" {
		q.Where("s.order_id = ?", f.OrderID)
	}
	if f.Carrier != "" {
		q.Where("s.carrier = ?", f.Carrier)
	}
	if len(f.Statuses) > 0 {
		q.Where("s.status IN (?)", bun.List(f.Statuses))
	}
	if c := f.After; c != nil {
		q.Where("(s.created_at < ? OR (s.created_at = ? AND s.id < ?))", c.CreatedAt, c.CreatedAt, c.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list shipments: %w", err)
	}
	return rows, nil
}
