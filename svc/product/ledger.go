package product

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// movementCursor is the keyset position after the last movement of a page
// (newest first), bound to the SKU it lists.
type movementCursor struct {
	At  int64  `json:"a"`
	ID  string `json:"id"`
	SKU string `json:"s"`
}

// ListStockMovements implements InventoryService.
func (s *Service) ListStockMovements(ctx context.Context, req *productv1.ListStockMovementsRequest) (*productv1.ListStockMovementsResponse, error) {
	size := paging.Size(req.GetPageSize())
	var after *movementCursor
	if req.GetPageToken() != "" {
		after = new(movementCursor)
		if err := paging.Decode(req.GetPageToken(), after); err != nil {
			return nil, err
		}
		if after.SKU != req.GetSku() || after.ID == "" {
			return nil, errs.Invalidf("page_token belongs to another SKU: start again without it")
		}
	}
	if _, err := s.store.stockLevels(ctx, []string{req.GetSku()}); err != nil {
		return nil, err // not_found for an unknown SKU
	}
	var rows []stockMovementRow
	q := s.store.db.NewSelect().Model(&rows).Where("sm.sku = ?", req.GetSku())
	if after != nil {
		q.Where("(sm.created_at < ? OR (sm.created_at = ? AND sm.id < ?))", after.At, after.At, after.ID)
	}
	if err := q.Order("sm.created_at DESC", "sm.id DESC").Limit(int64(size) + 1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list stock movements: %w", err)
	}
	res := &productv1.ListStockMovementsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		res.NextPageToken = paging.Encode(movementCursor{At: last.CreatedAt, ID: last.ID, SKU: req.GetSku()})
	}
	res.Movements = make([]*productv1.StockMovement, len(rows))
	for i, m := range rows {
		res.Movements[i] = &productv1.StockMovement{
			Id: m.ID, Sku: m.SKU, Delta: m.Delta, Reason: m.Reason, OnHandAfter: m.OnHandAfter,
			Actor: m.Actor, CreateTime: timestamppb.New(time.UnixMicro(m.CreatedAt)),
		}
	}
	return res, nil
}

// lowStockCursor is the keyset position after the last SKU of a page,
// bound to the threshold it lists.
type lowStockCursor struct {
	Stock     int64  `json:"o"`
	SKU       string `json:"s"`
	Threshold int64  `json:"t"`
}

// lowStockRow is a variant with its product's title.
type lowStockRow struct {
	SKU          string `bun:"sku"`
	ProductID    string
	Title        string
	ProductTitle string
	Stock        int64
}

// ListLowStock implements InventoryService.
func (s *Service) ListLowStock(ctx context.Context, req *productv1.ListLowStockRequest) (*productv1.ListLowStockResponse, error) {
	size := paging.Size(req.GetPageSize())
	var after *lowStockCursor
	if req.GetPageToken() != "" {
		after = new(lowStockCursor)
		if err := paging.Decode(req.GetPageToken(), after); err != nil {
			return nil, err
		}
		if after.Threshold != req.GetThreshold() || after.SKU == "" {
			return nil, errs.Invalidf("page_token belongs to another threshold: start again without it")
		}
	}
	var rows []lowStockRow
	q := s.store.db.NewSelect().
		TableExpr("variants AS v").
		ColumnExpr("v.sku, v.product_id, v.title, v.stock, p.title AS product_title").
		Join("JOIN products AS p ON p.id = v.product_id").
		Where("v.stock <= ?", req.GetThreshold()).
		Where("p.status <> ?", int32(productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED))
	if after != nil {
		q.Where("(v.stock > ? OR (v.stock = ? AND v.sku > ?))", after.Stock, after.Stock, after.SKU)
	}
	if err := q.OrderExpr("v.stock ASC, v.sku ASC").Limit(int64(size)+1).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list low stock: %w", err)
	}
	res := &productv1.ListLowStockResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		res.NextPageToken = paging.Encode(lowStockCursor{Stock: last.Stock, SKU: last.SKU, Threshold: req.GetThreshold()})
	}
	res.Levels = make([]*productv1.StockLevel, len(rows))
	for i, r := range rows {
		res.Levels[i] = &productv1.StockLevel{
			Sku: r.SKU, ProductId: r.ProductID, OnHand: r.Stock, ProductTitle: r.ProductTitle, VariantTitle: r.Title,
		}
	}
	return res, nil
}
