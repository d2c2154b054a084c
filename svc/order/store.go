package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// loadOrder reads an order (lines and history included); lock takes its row
// for the rest of tx (PostgreSQL; SQLite's single writer needs none).
func loadOrder(ctx context.Context, idb bun.IDB, id string, lock bool) (*orderRow, error) {
	o := new(orderRow)
	q := idb.NewSelect().Model(o).Where("o.id = ?", id)
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE OF o")
	}
	if err := q.Scan(ctx); err != nil {
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
func (s *Service) changeOrder(ctx context.Context, id string, change func(ctx context.Context, tx bun.Tx, o *orderRow) error) (*orderRow, error) {
	var out *orderRow
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		o, err := loadOrder(ctx, tx, id, true)
		if err != nil {
			return err
		}
		out = o
		return change(ctx, tx, o)
	})
	return out, err
}

// move changes o's status to `to` in tx, checked against the state
// machine, and records why in its history.
func (s *Service) move(ctx context.Context, tx bun.Tx, o *orderRow, to status, reason, who string) error {
	if err := checkMove(o.Status, to); err != nil {
		return err
	}
	if err := s.record(ctx, tx, o, to, reason, who); err != nil {
		return err
	}
	return s.notifyMove(ctx, tx, o, to)
}

// record writes o (status `to` and any fields the caller changed) with a
// history entry, guarded by o's version so a concurrent change is noticed.
func (s *Service) record(ctx context.Context, tx bun.Tx, o *orderRow, to status, reason, who string) error {
	now := micros(s.now())
	o.History = append(o.History, &statusStep{From: o.Status, To: to, Reason: reason, Actor: who, At: now})
	o.Status, o.UpdatedAt = to, now
	res, err := tx.NewUpdate().Model(o).
		Column("status", "refunded_total", "payment_id", "history", "updated_at").
		Set("version = version + 1").
		WherePK().Where("version = ?", o.Version).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.Abortedf("order %s changed at the same time; try again", o.Number)
	}
	o.Version++
	return nil
}
