package notification

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// store holds every query of the notification service, the same on SQLite
// and PostgreSQL. Methods taking a bun.Tx, or a bun.IDB (named …Tx), run
// inside the caller's transaction, begun with tx; the others on the
// database.
type store struct {
	db *bun.DB
}

// tx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must not call other services or providers: on SQLite
// the transaction holds the only connection.
func (s *store) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.db.RunInTx(ctx, nil, fn)
}

// handled reports whether Notify already handled eventID, and the
// deliveries it made.
func (s *store) handled(ctx context.Context, eventID string) (bool, []string, error) {
	return s.handledTx(ctx, s.db, eventID)
}

func (s *store) handledTx(ctx context.Context, idb bun.IDB, eventID string) (bool, []string, error) {
	var n int
	err := idb.QueryRowContext(ctx, "SELECT count(*) FROM processed_events WHERE consumer = ? AND event_id = ?",
		"notification.notify", eventID).Scan(&n)
	if err != nil {
		return false, nil, fmt.Errorf("read handled events: %w", err)
	}
	if n == 0 {
		return false, nil, nil
	}
	var ids []string
	err = idb.NewSelect().Model((*deliveryRow)(nil)).Column("id").Where("event_id = ?", eventID).
		OrderExpr("channel, id").Scan(ctx, &ids)
	if err != nil {
		return false, nil, fmt.Errorf("read deliveries of event: %w", err)
	}
	return true, ids, nil
}

// preferences returns a shopper's preferences, or the defaults when they
// never set any: SMS shipping updates on, marketing by email as they chose
// at sign-up (c may be nil when unknown), by SMS off.
func (s *store) preferences(ctx context.Context, userID string, c *userv1.Contact) (*preferencesRow, error) {
	return s.preferencesTx(ctx, s.db, userID, c)
}

func (s *store) preferencesTx(ctx context.Context, idb bun.IDB, userID string, c *userv1.Contact) (*preferencesRow, error) {
	p := new(preferencesRow)
	err := idb.NewSelect().Model(p).Where("p.user_id = ?", userID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &preferencesRow{UserID: userID, EmailMarketing: c.GetMarketingOptIn(), SMSShippingUpdates: true}, nil
	case err != nil:
		return nil, fmt.Errorf("read preferences: %w", err)
	}
	return p, nil
}

// savePreferences writes p: the whole row when the user has none yet, else
// only columns (and updated_at), so concurrent changes to different
// settings both stay.
func (s *store) savePreferences(ctx context.Context, tx bun.Tx, p *preferencesRow, columns []string) error {
	q := tx.NewInsert().Model(p).On("CONFLICT (user_id) DO UPDATE").Set("updated_at = EXCLUDED.updated_at")
	for _, c := range columns {
		q.Set("? = EXCLUDED.?", bun.Ident(c), bun.Ident(c))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save preferences: %w", err)
	}
	return nil
}

func (s *store) insertDelivery(ctx context.Context, tx bun.Tx, d *deliveryRow) error {
	if _, err := tx.NewInsert().Model(d).Exec(ctx); err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	return nil
}

// delivery reads a delivery.
func (s *store) delivery(ctx context.Context, id string) (*deliveryRow, error) {
	return readDelivery(ctx, s.db, id, false)
}

// lockDelivery reads a delivery inside tx, its row taken for the rest of
// tx on PostgreSQL (SQLite's single writer needs none).
func (s *store) lockDelivery(ctx context.Context, tx bun.Tx, id string) (*deliveryRow, error) {
	return readDelivery(ctx, tx, id, true)
}

func readDelivery(ctx context.Context, idb bun.IDB, id string, lock bool) (*deliveryRow, error) {
	d := new(deliveryRow)
	q := idb.NewSelect().Model(d).Where("d.id = ?", id)
	if lock && db.IsPostgres(idb) {
		q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("delivery %q not found", id)
		}
		return nil, fmt.Errorf("read delivery: %w", err)
	}
	return d, nil
}

// updateDelivery writes back a delivery's state and logs the attempt, in tx.
func (s *store) updateDelivery(ctx context.Context, tx bun.Tx, d *deliveryRow, log *attemptRow) error {
	_, err := tx.NewUpdate().Model(d).
		Column("status", "attempts", "provider_id", "last_error", "updated_at", "sent_at").
		WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update delivery: %w", err)
	}
	if log == nil {
		return nil
	}
	log.ID, log.DeliveryID = newID(), d.ID
	if _, err := tx.NewInsert().Model(log).Exec(ctx); err != nil {
		return fmt.Errorf("log delivery attempt: %w", err)
	}
	return nil
}

func (s *store) attempts(ctx context.Context, deliveryID string) ([]*attemptRow, error) {
	var rows []*attemptRow
	err := s.db.NewSelect().Model(&rows).Where("a.delivery_id = ?", deliveryID).OrderExpr("a.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read delivery log: %w", err)
	}
	return rows, nil
}

// current is the template in use for kind in locale: the newest stored
// version in the first locale of its fallback chain that has one, else the
// built-in default.
func (s *store) current(ctx context.Context, kind notificationv1.EventKind, locale string) (*source, error) {
	chain := localeChain(locale)
	var rows []*templateRow
	// The newest version per locale of the chain.
	err := s.db.NewSelect().Model(&rows).
		Where("t.kind = ? AND t.locale IN (?)", int32(kind), bun.List(chain)).
		Where("t.version = (SELECT max(t2.version) FROM templates AS t2 WHERE t2.kind = t.kind AND t2.locale = t.locale)").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	for _, l := range chain {
		for _, r := range rows {
			if r.Locale == l {
				return r.source(), nil
			}
		}
	}
	return builtin(kind)
}

// version reads one stored version of exactly kind and locale.
func (s *store) version(ctx context.Context, kind notificationv1.EventKind, locale string, v int64) (*source, error) {
	r := new(templateRow)
	err := s.db.NewSelect().Model(r).Where("t.kind = ? AND t.locale = ? AND t.version = ?", int32(kind), locale, v).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("template %s in %q has no version %d", kind, locale, v)
	}
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return r.source(), nil
}

// insertTemplate stores src as the next version of its kind and locale,
// if the newest stored version is still expected.
func (s *store) insertTemplate(ctx context.Context, src *source, expected int64) error {
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var latest int64
		err := tx.NewSelect().Model((*templateRow)(nil)).ColumnExpr("coalesce(max(version), 0)").
			Where("kind = ? AND locale = ?", int32(src.Kind), src.Locale).Scan(ctx, &latest)
		if err != nil {
			return fmt.Errorf("read template versions: %w", err)
		}
		if latest != expected {
			return errs.Abortedf("template %s in %q is at version %d, not %d: someone else edited it; reload and try again",
				src.Kind, src.Locale, latest, expected)
		}
		src.Version = latest + 1
		_, err = tx.NewInsert().Model(&templateRow{
			Kind: int32(src.Kind), Locale: src.Locale, Version: src.Version, Subject: src.Subject,
			HTML: src.HTML, Text: src.Text, SMS: src.SMS, Author: src.Author, CreatedAt: src.Created,
		}).Exec(ctx)
		return err
	})
	if db.IsUniqueViolation(err) {
		return errs.Abortedf("template %s in %q was edited at the same time; reload and try again", src.Kind, src.Locale)
	}
	return err
}

// templateVersions pages the stored versions of kind in locale, newest
// first, below version before (nil: from the newest).
func (s *store) templateVersions(ctx context.Context, kind notificationv1.EventKind, locale string, before *int64, limit int) ([]*templateRow, error) {
	q := s.db.NewSelect().Model((*templateRow)(nil)).
		Where("t.kind = ? AND t.locale = ?", int32(kind), locale).
		OrderExpr("t.version DESC").Limit(int64(limit))
	if before != nil {
		q.Where("t.version < ?", *before)
	}
	var rows []*templateRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list template versions: %w", err)
	}
	return rows, nil
}

// deliveryFilter narrows ListDeliveries; zero fields match everything.
type deliveryFilter struct {
	Statuses []notificationv1.DeliveryStatus
	Kinds    []notificationv1.EventKind
	UserID   string
	Channel  notificationv1.Channel
	EventID  string
	After    *deliveryCursor // keyset position, nil for the first page
	Limit    int
}

// listDeliveries pages deliveries matching f, newest first, without their
// content (GetDelivery has it).
func (s *store) listDeliveries(ctx context.Context, f deliveryFilter) ([]*deliveryRow, error) {
	q := s.db.NewSelect().Model((*deliveryRow)(nil)).
		ExcludeColumn("html", "text").
		OrderExpr("d.created_at DESC, d.id DESC").Limit(int64(f.Limit))
	if len(f.Statuses) > 0 {
		q.Where("d.status IN (?)", bun.List(f.Statuses))
	}
	if len(f.Kinds) > 0 {
		q.Where("d.kind IN (?)", bun.List(f.Kinds))
	}
	if f.UserID != "" {
		q.Where("d.user_id = ?", f.UserID)
	}
	if f.Channel != notificationv1.Channel_CHANNEL_UNSPECIFIED {
		q.Where("d.channel = ?", int32(f.Channel))
	}
	if f.EventID != "" {
		q.Where("d.event_id = ?", f.EventID)
	}
	if c := f.After; c != nil {
		q.Where("(d.created_at < ?) OR (d.created_at = ? AND d.id < ?)", c.CreatedAt, c.CreatedAt, c.ID)
	}
	var rows []*deliveryRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return rows, nil
}
