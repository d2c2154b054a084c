package seed

import (
	"testing"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// Generated(c, 520) is the demo itself.
func TestGeneratedAt520IsTheDemo(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(Demo("USD"), Generated("USD", 520), protocmp.Transform()); diff != "" {
		t.Errorf("Generated(520) differs from Demo (-demo +generated):\n%s", diff)
	}
}

// A large generated catalog has exactly n products with unique slugs and
// SKUs, variants, about 8 % sold out, passes CreateProduct's rules, and is
// the same on every call.
func TestGeneratedLargeCatalog(t *testing.T) {
	t.Parallel()
	n := 20000
	if testing.Short() {
		n = 2000
	}
	cat := Generated("EUR", n)
	if len(cat.Products) != n || len(cat.Categories) != 20 {
		t.Fatalf("%d products in %d categories, want %d in 20", len(cat.Products), len(cat.Categories), n)
	}
	slugs, skus := map[string]bool{}, map[string]bool{}
	soldOut, multi := 0, 0
	for i, p := range cat.Products {
		if slugs[p.Slug] {
			t.Fatalf("slug %q repeats", p.Slug)
		}
		slugs[p.Slug] = true
		inStock := false
		for _, v := range p.Variants {
			if skus[v.Sku] {
				t.Fatalf("SKU %q repeats", v.Sku)
			}
			skus[v.Sku] = true
			inStock = inStock || v.Stock > 0
			if v.Price.Currency != "EUR" {
				t.Fatalf("%s: price in %s", v.Sku, v.Price.Currency)
			}
		}
		if !inStock {
			soldOut++
		}
		if len(p.Variants) > 1 {
			multi++
		}
		if i%97 == 0 {
			if err := protovalidate.Validate(p); err != nil {
				t.Errorf("%s: %v", p.Slug, err)
			}
		}
	}
	if share := float64(soldOut) / float64(n); share < 0.06 || share > 0.10 {
		t.Errorf("%d of %d products sold out (%.1f %%), want about 8 %%", soldOut, n, share*100)
	}
	if multi < n/2 {
		t.Errorf("%d of %d products have several variants, want most", multi, n)
	}
	again := Generated("EUR", n)
	for _, i := range []int{0, n / 3, n - 1} {
		if diff := cmp.Diff(cat.Products[i], again.Products[i], protocmp.Transform()); diff != "" {
			t.Errorf("product %d differs between calls:\n%s", i, diff)
		}
	}
}
