package order

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

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

// cartFor finds the caller's cart: a signed-in shopper's own (made when
// create is set), or the guest cart of token (a new one when token is empty
// and create is set). A nil cart with no error means there is none yet.
// newToken is set when a guest cart was just made.
func (s *Service) cartFor(ctx context.Context, idb bun.IDB, token string, create bool) (c *cartRow, newToken string, err error) {
	now := micros(s.now())
	if p := shopper(ctx); p != nil {
		c = new(cartRow)
		err := idb.NewSelect().Model(c).Where("c.customer_id = ?", p.Subject).Scan(ctx)
		switch {
		case err == nil:
			return c, "", nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, "", fmt.Errorf("read cart: %w", err)
		case !create:
			return nil, "", nil
		}
		id := p.Subject
		c = &cartRow{ID: newID(), CustomerID: &id, CreatedAt: now, UpdatedAt: now}
		if _, err := idb.NewInsert().Model(c).On("CONFLICT (customer_id) DO NOTHING").Exec(ctx); err != nil {
			return nil, "", fmt.Errorf("create cart: %w", err)
		}
		if err := idb.NewSelect().Model(c).Where("c.customer_id = ?", p.Subject).Scan(ctx); err != nil {
			return nil, "", fmt.Errorf("read cart: %w", err)
		}
		return c, "", nil
	}
	if token == "" {
		if !create {
			return nil, "", nil
		}
		newToken = newCartToken()
		h := hashToken(newToken)
		c = &cartRow{ID: newID(), TokenHash: &h, CreatedAt: now, UpdatedAt: now}
		if _, err := idb.NewInsert().Model(c).Exec(ctx); err != nil {
			return nil, "", fmt.Errorf("create cart: %w", err)
		}
		return c, newToken, nil
	}
	c = new(cartRow)
	if err := idb.NewSelect().Model(c).Where("c.token_hash = ?", hashToken(token)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.NotFoundf("cart not found: the cart_token is unknown")
		}
		return nil, "", fmt.Errorf("read cart: %w", err)
	}
	if c.MergedInto != nil {
		return nil, "", errs.FailedPreconditionf("this cart was merged into a signed-in shopper's cart: sign in to see it")
	}
	return c, "", nil
}

func (s *Service) cartLines(ctx context.Context, idb bun.IDB, cartID string) ([]*cartLineRow, error) {
	var lines []*cartLineRow
	if err := idb.NewSelect().Model(&lines).Where("cl.cart_id = ?", cartID).Order("cl.added_at", "cl.sku").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read cart lines: %w", err)
	}
	return lines, nil
}

// show prices cart c as it stands in the database.
func (s *Service) show(ctx context.Context, c *cartRow, token string, dest *typev1.Destination, rateID string) (*orderv1.Cart, error) {
	lines, err := s.cartLines(ctx, s.db, c.ID)
	if err != nil {
		return nil, err
	}
	p, err := s.price(ctx, lines, c.DiscountCode, dest, rateID)
	if err != nil {
		return nil, err
	}
	out := p.cart(c, s.currency)
	out.CartToken = token
	return out, nil
}

// GetCart implements CartService.
func (s *Service) GetCart(ctx context.Context, req *orderv1.GetCartRequest) (*orderv1.GetCartResponse, error) {
	c, _, err := s.cartFor(ctx, s.db, req.GetCartToken(), false)
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
// cart, creating the cart when needed; 0 removes the line. The cart is
// priced once, after the change and inside its transaction, and the change
// is rolled back when the catalog cannot supply it.
func (s *Service) changeLine(ctx context.Context, token, sku string, quantity int64, add bool) (*orderv1.Cart, error) {
	var out *orderv1.Cart
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, newToken, err := s.cartFor(ctx, tx, token, add || quantity > 0)
		if err != nil {
			return err
		}
		if c == nil { // removing from a cart that does not exist: nothing to do
			out = (&priced{ready: true}).cart(&cartRow{}, s.currency)
			return nil
		}
		lines, err := s.cartLines(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		var had int64
		i := slices.IndexFunc(lines, func(l *cartLineRow) bool { return l.SKU == sku })
		if i >= 0 {
			had = lines[i].Quantity
		}
		want := quantity
		if add {
			want += had
		}
		switch {
		case want > maxQuantity:
			return errs.Invalidf("quantity: at most %d of one item per order", maxQuantity)
		case want == 0 && i >= 0:
			lines = slices.Delete(lines, i, i+1)
			_, err = tx.NewDelete().Model((*cartLineRow)(nil)).Where("cart_id = ? AND sku = ?", c.ID, sku).Exec(ctx)
		case want == 0:
		case i >= 0:
			lines[i].Quantity = want
			_, err = tx.NewUpdate().Model(lines[i]).Set("quantity = ?", want).Where("cart_id = ? AND sku = ?", c.ID, sku).Exec(ctx)
		case len(lines) >= maxLines:
			return errs.FailedPreconditionf("a cart holds at most %d different items", maxLines)
		default:
			l := &cartLineRow{CartID: c.ID, SKU: sku, Quantity: want, AddedAt: micros(s.now())}
			lines = append(lines, l)
			_, err = tx.NewInsert().Model(l).Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("change cart line: %w", err)
		}
		p, err := s.price(ctx, lines, c.DiscountCode, nil, "")
		if err != nil {
			return err
		}
		for _, l := range p.lines {
			if l.SKU == sku {
				if err := refusal(l, sku, want, had); err != nil {
					return err
				}
			}
		}
		if err := s.touch(ctx, tx, c); err != nil {
			return err
		}
		out = p.cart(c, s.currency)
		out.CartToken = newToken
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// touch marks c changed now.
func (s *Service) touch(ctx context.Context, tx bun.Tx, c *cartRow) error {
	c.UpdatedAt = micros(s.now())
	if _, err := tx.NewUpdate().Model(c).Column("updated_at", "discount_code").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update cart: %w", err)
	}
	return nil
}

// AddItem implements CartService.
func (s *Service) AddItem(ctx context.Context, req *orderv1.AddItemRequest) (*orderv1.AddItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), req.GetQuantity(), true)
	if err != nil {
		return nil, err
	}
	return &orderv1.AddItemResponse{Cart: c}, nil
}

// UpdateItem implements CartService.
func (s *Service) UpdateItem(ctx context.Context, req *orderv1.UpdateItemRequest) (*orderv1.UpdateItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), req.GetQuantity(), false)
	if err != nil {
		return nil, err
	}
	return &orderv1.UpdateItemResponse{Cart: c}, nil
}

// RemoveItem implements CartService.
func (s *Service) RemoveItem(ctx context.Context, req *orderv1.RemoveItemRequest) (*orderv1.RemoveItemResponse, error) {
	c, err := s.changeLine(ctx, req.GetCartToken(), req.GetSku(), 0, false)
	if err != nil {
		return nil, err
	}
	return &orderv1.RemoveItemResponse{Cart: c}, nil
}

// setCode puts code (or, empty, no code) on the caller's cart.
func (s *Service) setCode(ctx context.Context, token, code string) (*orderv1.Cart, error) {
	var c *cartRow
	var newToken string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
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
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if mine, _, err = s.cartFor(ctx, tx, "", true); err != nil {
			return err
		}
		guest := new(cartRow)
		if err := tx.NewSelect().Model(guest).Where("c.token_hash = ?", hashToken(req.GetCartToken())).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFoundf("cart not found: the cart_token is unknown")
			}
			return fmt.Errorf("read cart: %w", err)
		}
		if guest.MergedInto != nil {
			if *guest.MergedInto != mine.ID {
				return errs.NotFoundf("cart not found: the cart_token is unknown")
			}
			return nil // merged before: nothing more to do
		}
		theirs, err := s.cartLines(ctx, tx, guest.ID)
		if err != nil {
			return err
		}
		ours, err := s.cartLines(ctx, tx, mine.ID)
		if err != nil {
			return err
		}
		have := make(map[string]int64, len(ours))
		for _, l := range ours {
			have[l.SKU] = l.Quantity
		}
		for _, l := range theirs {
			q, ok := have[l.SKU]
			switch {
			case ok:
				_, err = tx.NewUpdate().Model((*cartLineRow)(nil)).Set("quantity = ?", min(q+l.Quantity, maxQuantity)).
					Where("cart_id = ? AND sku = ?", mine.ID, l.SKU).Exec(ctx)
			case len(have) < maxLines:
				have[l.SKU] = l.Quantity
				_, err = tx.NewInsert().Model(&cartLineRow{CartID: mine.ID, SKU: l.SKU, Quantity: l.Quantity, AddedAt: l.AddedAt}).Exec(ctx)
			}
			if err != nil {
				return fmt.Errorf("merge cart line: %w", err)
			}
		}
		if mine.DiscountCode == "" {
			mine.DiscountCode = guest.DiscountCode
		}
		if _, err := tx.NewDelete().Model((*cartLineRow)(nil)).Where("cart_id = ?", guest.ID).Exec(ctx); err != nil {
			return fmt.Errorf("empty guest cart: %w", err)
		}
		guest.MergedInto, guest.UpdatedAt = &mine.ID, micros(s.now())
		if _, err := tx.NewUpdate().Model(guest).Column("merged_into", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("retire guest cart: %w", err)
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
