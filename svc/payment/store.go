package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the payment service. It works the same on
// SQLite and PostgreSQL. Methods taking a bun.Tx, or a bun.IDB (named
// …Tx), run inside the caller's transaction, begun with tx; the others on
// the database.
type store struct {
	db *bun.DB
}

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must not call the provider or other services: on
// SQLite the transaction holds the only connection.
func (s *store) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// payment reads a payment by id.
func (s *store) payment(ctx context.Context, id string) (*paymentRow, error) {
	return s.paymentWhere(ctx, s.db, "p.id = ?", id, false)
}

// paymentTx reads a payment by id inside a transaction, without locking it.
func (s *store) paymentTx(ctx context.Context, idb bun.IDB, id string) (*paymentRow, error) {
	return s.paymentWhere(ctx, idb, "p.id = ?", id, false)
}

// lockPayment reads a payment inside tx, locking its row on PostgreSQL so
// changes to one payment happen one at a time. SQLite transactions take the
// write lock up front anyway.
func (s *store) lockPayment(ctx context.Context, tx bun.Tx, id string) (*paymentRow, error) {
	return s.paymentWhere(ctx, tx, "p.id = ?", id, true)
}

// paymentByIntent reads the payment of a provider intent.
func (s *store) paymentByIntent(ctx context.Context, intentID string) (*paymentRow, error) {
	return s.paymentWhere(ctx, s.db, "p.provider_payment_id = ?", intentID, false)
}

// paymentByKey reads the payment made with a CreatePayment idempotency key;
// nil when there is none.
func (s *store) paymentByKey(ctx context.Context, key string) (*paymentRow, error) {
	p, err := s.paymentWhere(ctx, s.db, "p.idempotency_key = ?", key, false)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	return p, err
}

func (s *store) paymentWhere(ctx context.Context, idb bun.IDB, where string, arg any, lock bool) (*paymentRow, error) {
	row := new(paymentRow)
	a := db.NewArgs(idb)
	q := idb.NewSelect().Model(row).Where(where, a.Arg(arg))
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE")
	}
	if err := a.Scan(ctx, idb, q, row); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("payment not found")
		}
		return nil, fmt.Errorf("read payment: %w", err)
	}
	return row, nil
}

// insertPayment stores a new payment. A unique violation (idempotency key or
// provider intent taken) comes back as is, for db.IsUniqueViolation.
func (s *store) insertPayment(ctx context.Context, p *paymentRow) error {
	if _, err := s.db.NewInsert().Model(p).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return err
		}
		return fmt.Errorf("insert payment: %w", err)
	}
	return nil
}

// updatePayment writes back payment p, read at version was: errStalePayment
// when it has moved on since (never after lockPayment).
func (s *store) updatePayment(ctx context.Context, tx bun.Tx, p *paymentRow, was int64) error {
	// Once or more per payment: sent with its arguments apart (db.Args).
	a := db.NewArgs(tx)
	q := tx.NewUpdate().Model((*paymentRow)(nil))
	if err := a.SetColumns(q, p, "id", "created_at"); err != nil {
		return err
	}
	res, err := a.Exec(ctx, tx, q.Where("id = ?", a.Arg(p.ID)).Where("version = ?", a.Arg(was)))
	return db.ChangedRow(res, err, "update payment", errStalePayment)
}

// errStalePayment is a payment write refused because the payment changed
// since the read it was based on.
var errStalePayment = errs.Abortedf("the payment changed at the same time; try again")

// holdRefund raises a succeeded payment's refunded (and refund_pending) by
// amount, unless that would take refunded above the payment's amount, and
// reports whether it did. The guard in the UPDATE itself is what keeps
// concurrent refunds from ever exceeding the payment: PostgreSQL re-checks
// it against the latest row once a concurrent update commits.
func (s *store) holdRefund(ctx context.Context, tx bun.Tx, paymentID string, amount, now int64) (bool, error) {
	res, err := tx.NewUpdate().Model((*paymentRow)(nil)).
		Set("refunded = refunded + ?", amount).
		Set("refund_pending = refund_pending + ?", amount).
		Set("version = version + 1").
		Set("updated_at = ?", now).
		Where("id = ?", paymentID).
		Where("status = ?", statusSucceeded).
		Where("refunded + ? <= amount", amount).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("hold refund: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("hold refund: %w", err)
	}
	return n == 1, nil
}

// refund reads a refund by id.
func (s *store) refund(ctx context.Context, id string) (*refundRow, error) {
	return s.refundWhere(ctx, s.db, "r.id = ?", id, false)
}

// lockRefund reads a refund inside tx, locking its row on PostgreSQL.
func (s *store) lockRefund(ctx context.Context, tx bun.Tx, id string) (*refundRow, error) {
	return s.refundWhere(ctx, tx, "r.id = ?", id, true)
}

// refundByKey reads the refund made with a RefundPayment idempotency key;
// nil when there is none.
func (s *store) refundByKey(ctx context.Context, key string) (*refundRow, error) {
	r, err := s.refundWhere(ctx, s.db, "r.idempotency_key = ?", key, false)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	return r, err
}

func (s *store) refundWhere(ctx context.Context, idb bun.IDB, where string, arg any, lock bool) (*refundRow, error) {
	row := new(refundRow)
	q := idb.NewSelect().Model(row).Where(where, arg)
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("refund not found")
		}
		return nil, fmt.Errorf("read refund: %w", err)
	}
	return row, nil
}

// insertRefund stores a new refund. A unique violation (the idempotency key
// taken) comes back as is, for db.IsUniqueViolation.
func (s *store) insertRefund(ctx context.Context, tx bun.Tx, r *refundRow) error {
	if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return err
		}
		return fmt.Errorf("insert refund: %w", err)
	}
	return nil
}

func (s *store) updateRefund(ctx context.Context, tx bun.Tx, r *refundRow) error {
	_, err := tx.NewUpdate().Model(r).Column("status", "provider_refund_id", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update refund: %w", err)
	}
	return nil
}

// webhookHandled reports whether a webhook event was already handled.
func (s *store) webhookHandled(ctx context.Context, id string) (bool, error) {
	ok, err := s.db.NewSelect().Model((*webhookEventRow)(nil)).Where("w.id = ?", id).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read webhook event: %w", err)
	}
	return ok, nil
}

// recordWebhook marks a webhook event handled, in the transaction of its
// effect (a second record of one event changes nothing).
func (s *store) recordWebhook(ctx context.Context, tx bun.Tx, ev *webhookEventRow) error {
	if _, err := tx.NewInsert().Model(ev).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("record webhook event: %w", err)
	}
	return nil
}
