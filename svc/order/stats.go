package order

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // time zones for GetOrderStats, on hosts without a zoneinfo database

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// maxStatsDays bounds GetOrderStats' range.
const maxStatsDays = 366

// soldStatuses are the states of orders that were paid and not canceled:
// the orders GetOrderStats counts.
var soldStatuses = []status{paid, fulfilling, shipped, delivered, partiallyRefunded, refunded}

// GetOrderStats implements OrderService.
func (s *Service) GetOrderStats(ctx context.Context, req *orderv1.GetOrderStatsRequest) (*orderv1.GetOrderStatsResponse, error) {
	loc := time.UTC
	if tz := req.GetTimeZone(); tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return nil, errs.Invalidf("time_zone: %q is not an IANA time zone such as Europe/Paris", tz)
		}
	}
	start, err := time.ParseInLocation(time.DateOnly, req.GetStartDate(), loc)
	if err != nil {
		return nil, errs.Invalidf("start_date: %q is not a date (YYYY-MM-DD)", req.GetStartDate())
	}
	end, err := time.ParseInLocation(time.DateOnly, req.GetEndDate(), loc)
	if err != nil {
		return nil, errs.Invalidf("end_date: %q is not a date (YYYY-MM-DD)", req.GetEndDate())
	}
	if end.Before(start) {
		return nil, errs.Invalidf("end_date %s is before start_date %s", req.GetEndDate(), req.GetStartDate())
	}
	// Days, not hours: a range over a daylight-saving change has 23- or
	// 25-hour days.
	var days []string
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if len(days) == maxStatsDays {
			return nil, errs.Invalidf("the range has more than %d days; ask for a shorter one", maxStatsDays)
		}
		days = append(days, d.Format(time.DateOnly))
	}
	type sums struct{ orders, revenue int64 }
	byDay := make(map[string]*sums, len(days))
	for _, d := range days {
		byDay[d] = &sums{}
	}
	rows, err := s.store.db.NewSelect().Model((*orderRow)(nil)).
		Column("created_at", "total", "refunded_total").
		Where("o.status IN (?)", bun.List(soldStatuses)).
		Where("o.created_at >= ?", start.UnixMicro()).
		Where("o.created_at < ?", end.AddDate(0, 0, 1).UnixMicro()).
		Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("order stats: %w", err)
	}
	defer rows.Close()
	// One row at a time: a busy year is many orders.
	for rows.Next() {
		var at, total, refunded int64
		if err := rows.Scan(&at, &total, &refunded); err != nil {
			return nil, fmt.Errorf("order stats: %w", err)
		}
		if d, ok := byDay[time.UnixMicro(at).In(loc).Format(time.DateOnly)]; ok {
			d.orders++
			d.revenue += total - refunded
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("order stats: %w", err)
	}
	awaiting, err := s.store.db.NewSelect().Model((*orderRow)(nil)).
		Where("o.status IN (?)", bun.List([]status{paid, fulfilling})).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count orders awaiting shipment: %w", err)
	}
	res := &orderv1.GetOrderStatsResponse{AwaitingShipment: int64(awaiting), Revenue: &typev1.Money{Currency: s.currency}}
	for _, d := range days {
		sum := byDay[d]
		res.Days = append(res.Days, &orderv1.DailyOrderStats{Date: d, Orders: sum.orders, Revenue: &typev1.Money{Amount: sum.revenue, Currency: s.currency}})
		res.Orders += sum.orders
		res.Revenue.Amount += sum.revenue
	}
	return res, nil
}
