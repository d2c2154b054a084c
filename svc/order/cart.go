package order

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// maxLines bounds a cart; maxQuantity a line (the protos say so too).
const (
	maxLines    = 100
	maxQuantity = 100
)

// newCartToken is a guest cart's secret: 32 random bytes, URL-safe.
func newCartToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// cartFor finds the caller's cart in tx: a signed-in shopper's own (made
// when create is set), or the guest cart of token (a new one when token is
// empty and create is set). A nil cart with no error means there is none
// yet. newToken is set when a guest cart was just made. Every caller
// changes the cart, so the cart found is read and held in one statement
// (forUpdate): concurrent changes to it take turns, and each starts from
// the row as the one before it left it.
func (s *Service) cartFor(ctx context.Context, tx bun.Tx, token string, create bool) (c *cartRow, newToken string, err error) {
	now := micros(s.now())
	if p := shopper(ctx); p != nil {
		c, err := s.store.customerCartTx(ctx, tx, p.Subject, true)
		if err != nil || c != nil || !create {
			return c, "", err
		}
		id := p.Subject
		c, err = s.store.createCustomerCart(ctx, tx, &cartRow{ID: newID(), CustomerID: &id, CreatedAt: now, UpdatedAt: now})
		return c, "", err
	}
	if token == "" {
		if !create {
			return nil, "", nil
		}
		newToken = newCartToken()
		h := hashToken(newToken)
		c = &cartRow{ID: newID(), TokenHash: &h, CreatedAt: now, UpdatedAt: now}
		if err := s.store.insertCart(ctx, tx, c); err != nil {
			return nil, "", err
		}
		return c, newToken, nil
	}
	if c, err = s.store.guestCartTx(ctx, tx, hashToken(token), true); err != nil {
		return nil, "", err
	}
	if err := unmerged(c); err != nil {
		return nil, "", err
	}
	return c, "", nil
}

// currentCart is the caller's cart as cartFor finds it, read outside a
// transaction; it never makes one.
func (s *Service) currentCart(ctx context.Context, token string) (*cartRow, error) {
	if p := shopper(ctx); p != nil {
		return s.store.customerCart(ctx, p.Subject)
	}
	if token == "" {
		return nil, nil
	}
	c, err := s.store.guestCart(ctx, hashToken(token))
	if err != nil {
		return nil, err
	}
	if err := unmerged(c); err != nil {
		return nil, err
	}
	return c, nil
}

// unmerged refuses a guest cart merged into a shopper's.
func unmerged(c *cartRow) error {
	if c.MergedInto != nil {
		return errs.FailedPreconditionf("this cart was merged into a signed-in shopper's cart: sign in to see it")
	}
	return nil
}

// show prices cart c as it was read or last written.
func (s *Service) show(ctx context.Context, c *cartRow, token string, dest *typev1.Destination, rateID string) (*orderv1.Cart, error) {
	p, err := s.price(ctx, c.Lines, c.DiscountCode, dest, rateID)
	if err != nil {
		return nil, err
	}
	out := p.cart(c, s.currency)
	out.CartToken = token
	return out, nil
}

// GetCart implements CartService.
func (s *Service) GetCart(ctx context.Context, req *orderv1.GetCartRequest) (*orderv1.GetCartResponse, error) {
	c, err := s.currentCart(ctx, req.GetCartToken())
	if err != nil {
		return nil, err
	}
	if c == nil { // nothing added yet
		c = &cartRow{}
	}
	out, err := s.show(ctx, c, "", req.GetShipTo(), req.GetShippingRateId())
	if err != nil {
		return nil, err
	}
	return &orderv1.GetCartResponse{Cart: out}, nil
}

// refusal says why a line changed to want units cannot stay in the cart,
// or returns nil when it can. Lowering a quantity is always allowed.
func refusal(l *pricedLine, sku string, want, had int64) error {
	switch {
	case want <= had:
		return nil
	case l.info == nil:
		return errs.NotFoundf("sku: %q is not in the catalog", sku)
	case !l.info.GetForSale():
		return errs.FailedPreconditionf("%s is no longer sold", l.info.GetProductTitle())
	case l.info.GetStock() == 0:
		return errs.FailedPreconditionf("%s is sold out", l.info.GetProductTitle())
	case l.info.GetStock() < want:
		return errs.FailedPreconditionf("only %d of %s left in stock", l.info.GetStock(), l.info.GetProductTitle())
	}
	return nil
}

// changeLine sets (or, with add, adds to) sku's quantity in the caller's
// cart, creating the cart when needed; 0 removes the line. It reads the
// cart, asks the catalog about its SKUs, and writes the changed cart only
// if nobody changed it since it was read (its version): no transaction is
// held while another service is asked, and a change is made in one
// statement. When someone did change it, it starts again from the cart as
// it is now.
func (s *Service) changeLine(ctx context.Context, token, sku string, quantity int64, add bool, searchID string) (*orderv1.Cart, error) {
	create := add || quantity > 0
	for attempt := 1; ; attempt++ {
		c, err := s.currentCart(ctx, token)
		if err != nil {
			return nil, err
		}
		var newToken string
		fresh := c == nil
		if fresh {
			if !create { // removing from a cart that does not exist: nothing to do
				return (&priced{ready: true}).cart(&cartRow{}, s.currency), nil
			}
			c, newToken = s.newCart(ctx)
		}
		out, err := s.applyLine(ctx, c, fresh, sku, quantity, add, searchID)
		if !errors.Is(err, errCartChanged) || attempt == maxCartAttempts {
			if out != nil {
				out.CartToken = newToken
			}
			return out, err
		}
	}
}

// maxCartAttempts bounds how often changeLine starts again because other
// requests changed the cart meanwhile: each round one of them succeeds.
const maxCartAttempts = 25

// newCart is a cart for the caller, not stored yet: a signed-in shopper's
// own, or a guest's with a new token.
func (s *Service) newCart(ctx context.Context) (c *cartRow, token string) {
	now := micros(s.now())
	c = &cartRow{ID: newID(), CreatedAt: now, UpdatedAt: now}
	if p := shopper(ctx); p != nil {
		id := p.Subject
		c.CustomerID = &id
		return c, ""
	}
	token = newCartToken()
	h := hashToken(token)
	c.TokenHash = &h
	return c, token
}

// applyLine makes changeLine's change to cart c as it was read (fresh: as
// newCart made it, not stored yet): sku (added from the search searchID,
// when set) to quantity. It returns errCartChanged when c changed, or the
// shopper's cart was made, meanwhile.
func (s *Service) applyLine(ctx context.Context, c *cartRow, fresh bool, sku string, quantity int64, add bool, searchID string) (*orderv1.Cart, error) {
	lines := c.Lines
	skus := skusOf(lines)
	if (add || quantity > 0) && !slices.Contains(skus, sku) {
		skus = append(skus, sku)
	}
	infos, err := s.lookup(ctx, skus)
	if err != nil {
		return nil, err
	}
	var d *discountRow
	if c.DiscountCode != "" {
		if d, err = s.store.discountByCode(ctx, normalizeCode(c.DiscountCode)); err != nil {
			return nil, err
		}
	}
	var had int64
	i := slices.IndexFunc(lines, func(l *cartLine) bool { return l.SKU == sku })
	if i >= 0 {
		had = lines[i].Quantity
	}
	want := quantity
	if add {
		want += had
	}
	switch {
	case want > maxQuantity:
		return nil, errs.Invalidf("quantity: at most %d of one item per order", maxQuantity)
	case want == 0 && i >= 0:
		lines = slices.Delete(lines, i, i+1)
	case want == 0:
	case i >= 0:
		lines[i].Quantity = want
		if searchID != "" {
			lines[i].SearchID = searchID
		}
	case len(lines) >= maxLines:
		return nil, errs.FailedPreconditionf("a cart holds at most %d different items", maxLines)
	default:
		lines = append(lines, &cartLine{SKU: sku, Quantity: want, AddedAt: micros(s.now()), SearchID: searchID})
	}
	c.Lines = lines
	p := s.priceGoods(lines, infos, c.DiscountCode, d)
	for _, l := range p.lines {
		if l.SKU == sku {
			if err := refusal(l, sku, want, had); err != nil {
				return nil, err
			}
		}
	}
	if fresh {
		err = s.store.createCart(ctx, c)
	} else {
		c.UpdatedAt = micros(s.now())
		err = s.store.updateCart(ctx, s.store.db, c)
	}
	if err != nil {
		return nil, err
	}
	return p.cart(c, s.currency), nil
}

// touch marks c changed now and writes it, unless it changed since it was
// read (errCartChanged).
func (s *Service) touch(ctx context.Context, tx bun.Tx, c *cartRow) error {
	c.UpdatedAt = micros(s.now())
	return s.store.updateCart(ctx, tx, c)
}

// AddItem implements CartService.
func (s *Service) AddItem(ctx context.Context, req *orderv1.AddItemRequest) (*orderv1.AddItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), req.GetQuantity(), true, req.GetSearchId())
	if err != nil {
		return nil, err
	}
	if req.GetSearchId() != "" {
		s.reportAddToCart(ctx, req.GetSku(), req.GetSearchId())
	}
	return &orderv1.AddItemResponse{Cart: c}, nil
}

// UpdateItem implements CartService.
func (s *Service) UpdateItem(ctx context.Context, req *orderv1.UpdateItemRequest) (*orderv1.UpdateItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), req.GetQuantity(), false, "")
	if err != nil {
		return nil, err
	}
	return &orderv1.UpdateItemResponse{Cart: c}, nil
}

// RemoveItem implements CartService.
func (s *Service) RemoveItem(ctx context.Context, req *orderv1.RemoveItemRequest) (*orderv1.RemoveItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), 0, false, "")
	if err != nil {
		return nil, err
	}
	return &orderv1.RemoveItemResponse{Cart: c}, nil
}

// setCode puts code (or, empty, no code) on the caller's cart.
func (s *Service) setCode(ctx context.Context, token, code string) (*orderv1.Cart, error) {
	var c *cartRow
	var newToken string
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if c, newToken, err = s.cartFor(ctx, tx, token, code != ""); err != nil || c == nil {
			return err
		}
		c.DiscountCode = code
		return s.touch(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &cartRow{}
	}
	return s.show(ctx, c, newToken, nil, "")
}

// ApplyDiscountCode implements CartService. A code that can never apply
// now fails; one that needs a bigger cart is kept, with the reason shown.
func (s *Service) ApplyDiscountCode(ctx context.Context, req *orderv1.ApplyDiscountCodeRequest) (*orderv1.ApplyDiscountCodeResponse, error) {
	d, err := s.discountByCode(ctx, req.GetCode())
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if _, issue := evaluate(d, 1<<62, s.currency, micros(s.now())); issue != "" {
		return nil, errs.FailedPreconditionf("%s", issue)
	}
	c, err := s.setCode(ctx, req.GetCartToken(), d.Code)
	if err != nil {
		return nil, err
	}
	return &orderv1.ApplyDiscountCodeResponse{Cart: c}, nil
}

// RemoveDiscountCode implements CartService.
func (s *Service) RemoveDiscountCode(ctx context.Context, req *orderv1.RemoveDiscountCodeRequest) (*orderv1.RemoveDiscountCodeResponse, error) {
	c, err := s.setCode(ctx, req.GetCartToken(), "")
	if err != nil {
		return nil, err
	}
	return &orderv1.RemoveDiscountCodeResponse{Cart: c}, nil
}

// MergeCart implements CartService.
func (s *Service) MergeCart(ctx context.Context, req *orderv1.MergeCartRequest) (*orderv1.MergeCartResponse, error) {
	var mine *cartRow
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if mine, _, err = s.cartFor(ctx, tx, "", true); err != nil {
			return err
		}
		guest, err := s.store.guestCartTx(ctx, tx, hashToken(req.GetCartToken()), false)
		if err != nil {
			return err
		}
		if guest.MergedInto != nil {
			if *guest.MergedInto != mine.ID {
				return errs.NotFoundf("cart not found: the cart_token is unknown")
			}
			return nil // merged before: nothing more to do
		}
		for _, l := range guest.Lines {
			i := slices.IndexFunc(mine.Lines, func(m *cartLine) bool { return m.SKU == l.SKU })
			switch {
			case i >= 0:
				mine.Lines[i].Quantity = min(mine.Lines[i].Quantity+l.Quantity, maxQuantity)
			case len(mine.Lines) < maxLines:
				mine.Lines = append(mine.Lines, l)
			}
		}
		// Oldest first, as lines are kept.
		slices.SortStableFunc(mine.Lines, func(a, b *cartLine) int {
			return cmp.Or(cmp.Compare(a.AddedAt, b.AddedAt), strings.Compare(a.SKU, b.SKU))
		})
		if mine.DiscountCode == "" {
			mine.DiscountCode = guest.DiscountCode
		}
		guest.MergedInto, guest.UpdatedAt = &mine.ID, micros(s.now())
		if err := s.store.retireCart(ctx, tx, guest); err != nil {
			return err
		}
		return s.touch(ctx, tx, mine)
	})
	if err != nil {
		return nil, err
	}
	c, err := s.show(ctx, mine, "", nil, "")
	if err != nil {
		return nil, err
	}
	return &orderv1.MergeCartResponse{Cart: c}, nil
}
