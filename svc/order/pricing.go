package order

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// defaultGrams is what an item of unknown weight counts for shipping.
const defaultGrams = 500

// priced is a cart priced now: every number a cart shows or an order
// freezes. Nothing in it comes from the client.
type priced struct {
	lines    []*pricedLine
	subtotal int64
	weight   int64 // grams

	discount      *discountRow // nil when none applies
	discountCode  string       // as on the cart, even when it gives nothing
	discountTotal int64
	discountIssue string

	rates    []*shippingv1.ShippingRate // when a destination was given
	rate     *shippingv1.ShippingRate   // the chosen one
	shipping int64
	tax      int64
	total    int64
	ready    bool // every line can be bought as it stands
}

type pricedLine struct {
	cartLine
	info  *productv1.VariantInfo // nil when the SKU is gone
	total int64
	issue string
}

// price prices lines now: current prices and stock from the catalog, the
// discount code, and with dest shipping options and tax (rateID picks the
// option that goes into the total).
func (s *Service) price(ctx context.Context, lines []*cartLine, code string, dest *typev1.Destination, rateID string) (*priced, error) {
	infos, err := s.lookup(ctx, skusOf(lines))
	if err != nil {
		return nil, err
	}
	var d *discountRow
	if code != "" {
		if d, err = s.store.discountByCode(ctx, normalizeCode(code)); err != nil {
			return nil, err
		}
	}
	p := s.priceGoods(lines, infos, code, d)
	goods := p.subtotal - p.discountTotal

	if dest != nil && p.weight > 0 {
		res, err := s.shipping.QuoteRates(ctx, &shippingv1.QuoteRatesRequest{
			Destination: dest, WeightGrams: p.weight, Subtotal: moneyOf(goods, s.currency),
		})
		if err != nil {
			return nil, remote("quote shipping", err)
		}
		p.rates = res.GetRates()
		p.tax = taxOf(goods, s.tax.Rate(dest.GetCountry(), dest.GetRegion()))
	}
	if rateID != "" {
		for _, r := range p.rates {
			if r.GetId() == rateID {
				p.rate, p.shipping = r, r.GetPrice().GetAmount()
			}
		}
		if p.rate == nil {
			return nil, errs.Invalidf("shipping_rate_id: %q is not offered for this cart and destination; quote again", rateID)
		}
	}
	p.total = goods + p.shipping + p.tax
	return p, nil
}

// priceGoods prices lines from what the catalog said of their SKUs (infos)
// and the cart's discount code (d is its discount, nil when the code is
// unknown): everything but shipping and tax, without asking anyone.
func (s *Service) priceGoods(lines []*cartLine, infos map[string]*productv1.VariantInfo, code string, d *discountRow) *priced {
	p := &priced{ready: true, discountCode: code}
	for _, l := range lines {
		pl := &pricedLine{cartLine: *l, info: infos[l.SKU]}
		switch info := pl.info; {
		case info == nil || !info.GetForSale():
			pl.issue = "No longer sold"
		case info.GetPrice().GetCurrency() != s.currency:
			pl.issue = "Not sold in " + s.currency
		case info.GetStock() == 0:
			pl.issue = "Sold out"
		case info.GetStock() < l.Quantity:
			pl.issue = fmt.Sprintf("Only %d left", info.GetStock())
		}
		if pl.info != nil && pl.info.GetPrice().GetCurrency() == s.currency {
			pl.total = pl.info.GetPrice().GetAmount() * l.Quantity
			p.subtotal += pl.total
			grams := pl.info.GetWeightGrams()
			if grams == 0 {
				grams = defaultGrams
			}
			p.weight += grams * l.Quantity
		}
		if pl.issue != "" {
			p.ready = false
		}
		p.lines = append(p.lines, pl)
	}

	if code != "" {
		amount, issue := evaluate(d, p.subtotal, s.currency, micros(s.now()))
		if issue == "" {
			p.discount, p.discountTotal = d, amount
		}
		p.discountIssue = issue
	}
	p.total = p.subtotal - p.discountTotal
	return p
}

func skusOf(lines []*cartLine) []string {
	skus := make([]string, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
	}
	return skus
}

// lookup reads SKUs from the catalog; a SKU it does not know is missing
// from the answer.
func (s *Service) lookup(ctx context.Context, skus []string) (map[string]*productv1.VariantInfo, error) {
	out := make(map[string]*productv1.VariantInfo, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	res, err := s.catalog.LookupVariants(ctx, &productv1.LookupVariantsRequest{Skus: skus})
	if err != nil {
		return nil, remote("read the catalog", err)
	}
	for _, v := range res.GetVariants() {
		out[v.GetSku()] = v
	}
	return out, nil
}

// cart is p as the API shows it.
func (p *priced) cart(c *cartRow, currency string) *orderv1.Cart {
	out := &orderv1.Cart{
		Id: c.ID, Subtotal: moneyOf(p.subtotal, currency), DiscountTotal: moneyOf(p.discountTotal, currency),
		Total: moneyOf(p.total, currency), ShippingRates: p.rates, UpdateTime: ts(c.UpdatedAt), Ready: p.ready,
	}
	if p.rates != nil {
		out.TaxTotal = moneyOf(p.tax, currency)
	}
	if p.rate != nil {
		out.ShippingTotal = moneyOf(p.shipping, currency)
	}
	if p.discountCode != "" {
		out.Discount = &orderv1.AppliedDiscount{Code: p.discountCode, Amount: moneyOf(p.discountTotal, currency), Issue: p.discountIssue}
		if p.discount != nil {
			out.Discount.Description = p.discount.Description
		}
	}
	for _, l := range p.lines {
		line := &orderv1.CartLine{Sku: l.SKU, Quantity: l.Quantity, Issue: l.issue, LineTotal: moneyOf(l.total, currency)}
		if i := l.info; i != nil {
			line.ProductId, line.ProductSlug, line.Title, line.VariantTitle = i.GetProductId(), i.GetProductSlug(), i.GetProductTitle(), i.GetVariantTitle()
			line.ImageUrl, line.UnitPrice, line.Available = i.GetImageUrl(), i.GetPrice(), i.GetStock()
		}
		out.Lines = append(out.Lines, line)
		out.ItemCount += l.Quantity
	}
	return out
}

// remote wraps another service's error: what the caller did wrong stays
// that kind; the rest is unavailable, with the cause logged, not shown.
func remote(what string, err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument:
		return errs.Invalidf("%s: %s", what, message(err))
	case connect.CodeNotFound, connect.CodeFailedPrecondition, connect.CodeAlreadyExists, connect.CodePermissionDenied:
		return err
	}
	return &errs.Error{Kind: errs.Unavailable, Message: "cannot " + what + " right now; try again", Err: err}
}

// message is what another service said, without the code in front.
func message(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}

// reportAddToCart tells the catalog that sku was added to a cart from the
// search searchID, for its search analytics. Analytics never fail an
// add-to-cart: an error is only logged.
func (s *Service) reportAddToCart(ctx context.Context, sku, searchID string) {
	_, err := s.catalog.LookupVariants(ctx, &productv1.LookupVariantsRequest{Skus: []string{sku}, SearchId: searchID})
	if err != nil {
		s.log.WarnContext(ctx, "search analytics: add-to-cart not reported", "sku", sku, "err", err)
	}
}
