package product

import (
	"context"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// lookupVariants is LookupVariants without analytics. It reads the database, not the
// cache: carts and checkouts price from it and must see current prices and
// stock.
func (s *Service) lookupVariants(ctx context.Context, req *productv1.LookupVariantsRequest) (*productv1.LookupVariantsResponse, error) {
	rows, err := s.store.variantsBySKU(ctx, req.GetSkus())
	if err != nil {
		return nil, err
	}
	bySKU := make(map[string]*variantInfoRow, len(rows))
	for _, r := range rows {
		bySKU[r.SKU] = r
	}
	res := &productv1.LookupVariantsResponse{Variants: make([]*productv1.VariantInfo, 0, len(rows))}
	for _, sku := range req.GetSkus() {
		r, ok := bySKU[sku]
		if !ok {
			continue
		}
		info := &productv1.VariantInfo{
			Sku: r.SKU, ProductId: r.ProductID, ProductSlug: r.Slug, ProductTitle: r.ProductTitle,
			VariantTitle: r.Title, Price: &typev1.Money{Amount: r.Price, Currency: r.Currency},
			Stock: r.Stock, WeightGrams: r.WeightGrams, ForSale: r.Status == active,
		}
		if len(r.Images) > 0 {
			info.ImageUrl = r.Images[0].URL
		}
		res.Variants = append(res.Variants, info)
	}
	return res, nil
}

// variantInfoRow is a variant with the product fields a cart shows.
type variantInfoRow struct {
	variantRow   `bun:",extend"`
	Slug         string
	ProductTitle string
	Status       int32
	Images       []imageJSON `bun:",type:text"`
}
