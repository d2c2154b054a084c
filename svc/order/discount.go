package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

var (
	percentKind = int32(orderv1.DiscountKind_DISCOUNT_KIND_PERCENT)
	fixedKind   = int32(orderv1.DiscountKind_DISCOUNT_KIND_FIXED)
)

// evaluate is what discount d takes off subtotal at now, or, when it takes
// nothing, why, in words for shoppers. A nil d is an unknown code.
func evaluate(d *discountRow, subtotal int64, currency string, now int64) (amount int64, issue string) {
	switch {
	case d == nil || !d.Active:
		return 0, "This code is not valid"
	case now < d.StartsAt:
		return 0, "This code is not valid yet"
	case d.EndsAt != nil && now >= *d.EndsAt:
		return 0, "This code has expired"
	case d.MaxRedemptions > 0 && d.Redemptions >= d.MaxRedemptions:
		return 0, "This code has been used up"
	case d.Currency != currency:
		return 0, "This code is not valid in " + currency
	case subtotal < d.MinSubtotal:
		return 0, "Spend " + formatMoney(d.MinSubtotal, d.Currency) + " to use this code"
	}
	if d.Kind == percentKind {
		return taxOf(subtotal, int64(d.PercentOff)*1000), "" // the same rounding as tax
	}
	return min(d.AmountOff, subtotal), ""
}

// formatMoney writes minor units for people, e.g. "USD 50.00".
func formatMoney(amount int64, currency string) string {
	return fmt.Sprintf("%s %d.%02d", currency, amount/100, amount%100)
}

func normalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

func (s *Service) discountByCode(ctx context.Context, code string) (*discountRow, error) {
	d := new(discountRow)
	err := s.db.NewSelect().Model(d).Where("d.code = ?", normalizeCode(code)).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errs.NotFoundf("discount code %q not found", code)
	case err != nil:
		return nil, fmt.Errorf("read discount: %w", err)
	}
	return d, nil
}

// CreateDiscount implements DiscountService.
func (s *Service) CreateDiscount(ctx context.Context, req *orderv1.CreateDiscountRequest) (*orderv1.CreateDiscountResponse, error) {
	now := micros(s.now())
	d := &discountRow{
		ID: newID(), Code: normalizeCode(req.GetCode()), Description: req.GetDescription(), Kind: int32(req.GetKind()),
		PercentOff: req.GetPercentOff(), MaxRedemptions: req.GetMaxRedemptions(), Currency: s.currency,
		StartsAt: now, Active: true, CreatedAt: now, UpdatedAt: now,
	}
	if d.Kind == fixedKind {
		if c := req.GetAmountOff().GetCurrency(); c != s.currency {
			return nil, errs.Invalidf("amount_off.currency: %q is not the shop currency %q", c, s.currency)
		}
		d.AmountOff, d.PercentOff = req.GetAmountOff().GetAmount(), 0
	}
	if m := req.GetMinSubtotal(); m != nil {
		if m.GetCurrency() != s.currency {
			return nil, errs.Invalidf("min_subtotal.currency: %q is not the shop currency %q", m.GetCurrency(), s.currency)
		}
		d.MinSubtotal = m.GetAmount()
	}
	if req.GetStartTime() != nil {
		d.StartsAt = micros(req.GetStartTime().AsTime())
	}
	if req.GetEndTime() != nil {
		end := micros(req.GetEndTime().AsTime())
		if end <= d.StartsAt {
			return nil, errs.Invalidf("end_time: must be after start_time")
		}
		d.EndsAt = &end
	}
	if _, err := s.db.NewInsert().Model(d).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, errs.Conflictf("discount code %q already exists", d.Code)
		}
		return nil, fmt.Errorf("insert discount: %w", err)
	}
	return &orderv1.CreateDiscountResponse{Discount: d.toProto()}, nil
}

type discountCursor struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// ListDiscounts implements DiscountService.
func (s *Service) ListDiscounts(ctx context.Context, req *orderv1.ListDiscountsRequest) (*orderv1.ListDiscountsResponse, error) {
	size := paging.Size(req.GetPageSize())
	q := s.db.NewSelect().Model((*discountRow)(nil)).OrderExpr("d.created_at DESC, d.id DESC").Limit(int64(size + 1))
	if req.GetPageToken() != "" {
		var c discountCursor
		if err := paging.Decode(req.GetPageToken(), &c); err != nil {
			return nil, err
		}
		q.Where("(d.created_at < ?) OR (d.created_at = ? AND d.id < ?)", c.CreatedAt, c.CreatedAt, c.ID)
	}
	var rows []*discountRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list discounts: %w", err)
	}
	res := &orderv1.ListDiscountsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		res.NextPageToken = paging.Encode(discountCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, d := range rows {
		res.Discounts = append(res.Discounts, d.toProto())
	}
	return res, nil
}

// UpdateDiscount implements DiscountService.
func (s *Service) UpdateDiscount(ctx context.Context, req *orderv1.UpdateDiscountRequest) (*orderv1.UpdateDiscountResponse, error) {
	d := new(discountRow)
	if err := s.db.NewSelect().Model(d).Where("d.id = ?", req.GetId()).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("discount %q not found", req.GetId())
		}
		return nil, fmt.Errorf("read discount: %w", err)
	}
	q := s.db.NewUpdate().Model(d).WherePK().Set("updated_at = ?", micros(s.now()))
	if req.Active != nil {
		d.Active = req.GetActive()
		q.Set("active = ?", d.Active)
	}
	if req.MaxRedemptions != nil {
		d.MaxRedemptions = req.GetMaxRedemptions()
		q.Set("max_redemptions = ?", d.MaxRedemptions)
	}
	if req.Description != nil {
		d.Description = req.GetDescription()
		q.Set("description = ?", d.Description)
	}
	if req.GetEndTime() != nil {
		end := micros(req.GetEndTime().AsTime())
		if end <= d.StartsAt {
			return nil, errs.Invalidf("end_time: must be after the start time %s", time.UnixMicro(d.StartsAt).UTC().Format(time.RFC3339))
		}
		d.EndsAt = &end
		q.Set("ends_at = ?", end)
	}
	if _, err := q.Exec(ctx); err != nil {
		return nil, fmt.Errorf("update discount: %w", err)
	}
	return &orderv1.UpdateDiscountResponse{Discount: d.toProto()}, nil
}
