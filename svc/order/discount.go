package order

import (
	"context"
	"strings"
	"time"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/money"
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
		return 0, "Spend " + money.Format(d.MinSubtotal, d.Currency) + " to use this code"
	}
	if d.Kind == percentKind {
		return taxOf(subtotal, int64(d.PercentOff)*1000), "" // the same rounding as tax
	}
	return min(d.AmountOff, subtotal), ""
}

func normalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

func (s *Service) discountByCode(ctx context.Context, code string) (*discountRow, error) {
	d, err := s.store.discountByCode(ctx, normalizeCode(code))
	if err == nil && d == nil {
		return nil, errs.NotFoundf("discount code %q not found", code)
	}
	return d, err
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
	if err := s.store.insertDiscount(ctx, d); err != nil {
		return nil, err
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
	var after *discountCursor
	if req.GetPageToken() != "" {
		after = new(discountCursor)
		if err := paging.Decode(req.GetPageToken(), after); err != nil {
			return nil, err
		}
	}
	rows, err := s.store.listDiscounts(ctx, after, size+1)
	if err != nil {
		return nil, err
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
	d, err := s.store.discount(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	now := micros(s.now())
	var change discountChange
	if req.Active != nil {
		d.Active = req.GetActive()
		change.Active = &d.Active
	}
	if req.MaxRedemptions != nil {
		d.MaxRedemptions = req.GetMaxRedemptions()
		change.MaxRedemptions = &d.MaxRedemptions
	}
	if req.Description != nil {
		d.Description = req.GetDescription()
		change.Description = &d.Description
	}
	if req.GetEndTime() != nil {
		end := micros(req.GetEndTime().AsTime())
		if end <= d.StartsAt {
			return nil, errs.Invalidf("end_time: must be after the start time %s", time.UnixMicro(d.StartsAt).UTC().Format(time.RFC3339))
		}
		d.EndsAt = &end
		change.EndsAt = &end
	}
	if err := s.store.updateDiscount(ctx, d, change, now); err != nil {
		return nil, err
	}
	return &orderv1.UpdateDiscountResponse{Discount: d.toProto()}, nil
}
