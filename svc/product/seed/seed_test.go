package seed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

var (
	slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	skuRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

func TestDemoCatalog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, currency, want string
	}{
		{name: "usd", currency: "USD", want: "USD"},
		{name: "eur", currency: "EUR", want: "EUR"},
		{name: "empty means usd", currency: "", want: "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Demo(tt.currency)
			if got := len(c.Categories); got != 20 {
				t.Errorf("categories = %d, want 20", got)
			}
			if got := len(c.Products); got < 500 {
				t.Errorf("products = %d, want at least 500", got)
			}

			cats := map[string]int{}
			for _, cat := range c.Categories {
				if !slugRE.MatchString(cat.Slug) || len(cat.Slug) > 100 {
					t.Errorf("category slug %q is not a slug", cat.Slug)
				}
				if cat.Name == "" || !strings.HasSuffix(cat.Description, ".") {
					t.Errorf("category %q: name %q, description %q", cat.Slug, cat.Name, cat.Description)
				}
				if _, dup := cats[cat.Slug]; dup {
					t.Errorf("category %q twice", cat.Slug)
				}
				cats[cat.Slug] = 0
			}

			slugs, titles, skus := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, p := range c.Products {
				checkProduct(t, p, tt.want)
				if _, ok := cats[p.Category]; !ok {
					t.Errorf("%s: category %q does not exist", p.Slug, p.Category)
				}
				cats[p.Category]++
				if slugs[p.Slug] {
					t.Errorf("slug %q twice", p.Slug)
				}
				slugs[p.Slug] = true
				if titles[p.Title] {
					t.Errorf("title %q twice", p.Title)
				}
				titles[p.Title] = true
				for _, v := range p.Variants {
					if skus[v.Sku] {
						t.Errorf("SKU %q twice", v.Sku)
					}
					skus[v.Sku] = true
				}
			}
			for slug, n := range cats {
				if n < 20 {
					t.Errorf("category %q has %d products, want at least 20", slug, n)
				}
			}
		})
	}
}

// TestCategorySpecs checks the tables behind Demo, including the parts a
// given run of the generator may not happen to draw.
func TestCategorySpecs(t *testing.T) {
	t.Parallel()
	codes := map[string]bool{}
	for _, s := range categorySpecs() {
		if codes[s.code] || !skuRE.MatchString(s.code) {
			t.Errorf("%s: SKU prefix %q is repeated or invalid", s.Slug, s.code)
		}
		codes[s.code] = true
		if len(s.brands) == 0 || len(s.nouns) == 0 || len(s.mats) == 0 || len(s.uses) == 0 || len(s.features) == 0 {
			t.Errorf("%s: brands, nouns, materials, uses and features must not be empty", s.Slug)
		}
		if s.lo < 5 || s.hi < s.lo {
			t.Errorf("%s: price range %d–%d", s.Slug, s.lo, s.hi)
		}
		if s.modelAttr != "" && len(s.models) == 0 {
			t.Errorf("%s: modelAttr %q without models", s.Slug, s.modelAttr)
		}
		axes := [][]axis{s.axes}
		for _, n := range s.nouns {
			for _, m := range n.mats {
				s.material(m) // panics on an unknown name
			}
			if n.axes != nil {
				axes = append(axes, n.axes)
			}
		}
		for _, as := range axes {
			if len(as) > 2 {
				t.Errorf("%s: %d axes, want at most 2", s.Slug, len(as))
			}
			for _, a := range as {
				if a.key == "" || a.min < 1 || a.max < a.min || a.max > len(a.values) ||
					(a.permille != nil && len(a.permille) != len(a.values)) {
					t.Errorf("%s: bad axis %+v", s.Slug, a)
				}
			}
		}
	}
}

// checkProduct checks one product against the API's rules and the demo's own.
func checkProduct(t *testing.T, p *productv1.CreateProductRequest, currency string) {
	t.Helper()
	if !slugRE.MatchString(p.Slug) || len(p.Slug) > 120 {
		t.Errorf("slug %q is not a valid slug", p.Slug)
	}
	if p.Title == "" || len(p.Title) > 200 {
		t.Errorf("%s: title %q", p.Slug, p.Title)
	}
	if n := strings.Count(p.Description, ". ") + 1; n < 2 || n > 3 || !strings.HasSuffix(p.Description, ".") {
		t.Errorf("%s: description has %d sentences, want 2–3: %q", p.Slug, n, p.Description)
	}
	if p.Brand == "" || p.Status != productv1.ProductStatus_PRODUCT_STATUS_ACTIVE || len(p.Attributes) < 2 {
		t.Errorf("%s: brand %q, status %v, attributes %v", p.Slug, p.Brand, p.Status, p.Attributes)
	}
	if n := len(p.Variants); n < 1 || n > 6 {
		t.Errorf("%s: %d variants, want 1–6", p.Slug, n)
	}
	for _, v := range p.Variants {
		if !skuRE.MatchString(v.Sku) || len(v.Sku) > 64 {
			t.Errorf("%s: SKU %q is not valid", p.Slug, v.Sku)
		}
		if v.Price == nil || v.Price.Amount <= 0 || v.Price.Currency != currency {
			t.Errorf("%s: SKU %s: price %v, want a positive amount in %s", p.Slug, v.Sku, v.Price, currency)
		} else if v.Price.Amount < 400 || v.Price.Amount > 100000 {
			t.Errorf("%s: SKU %s: price %d is outside 4.00–1000.00", p.Slug, v.Sku, v.Price.Amount)
		}
		if v.Stock < 0 {
			t.Errorf("%s: SKU %s: stock %d", p.Slug, v.Sku, v.Stock)
		}
		if len(v.Options) == 0 && v.Title != "Standard" {
			t.Errorf("%s: SKU %s has no options but title %q", p.Slug, v.Sku, v.Title)
		}
		for k, o := range v.Options {
			if !strings.Contains(v.Title, o) {
				t.Errorf("%s: SKU %s: title %q lacks option %s=%q", p.Slug, v.Sku, v.Title, k, o)
			}
		}
	}
	if n := len(p.Images); n < 1 || n > 3 {
		t.Errorf("%s: %d images, want 1–3", p.Slug, n)
	}
	for i, img := range p.Images {
		want := "/media/products/" + p.Slug + ".svg"
		if i > 0 {
			want += fmt.Sprintf("?view=%d", i+1)
		}
		if img.Url != want || img.Alt == "" {
			t.Errorf("%s: image %d = %q (alt %q), want %q with alt text", p.Slug, i, img.Url, img.Alt, want)
		}
	}
}

func TestDemoIsDeterministic(t *testing.T) {
	t.Parallel()
	want := Demo("USD")
	// Build it concurrently as well: nothing may be shared between calls.
	const n = 2
	got := make([]Catalog, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = Demo("USD") })
	}
	wg.Wait()
	for i := range n {
		if diff := cmp.Diff(want, got[i], protocmp.Transform()); diff != "" {
			t.Fatalf("Demo differs between calls (-first +call %d):\n%s", i, diff)
		}
	}

	// A caller changing its catalog does not change the next one.
	got[0].Products[0].Title = "changed"
	got[0].Products[0].Attributes["material"] = "changed"
	got[0].Categories[0].Name = "changed"
	if diff := cmp.Diff(want, Demo("USD"), protocmp.Transform()); diff != "" {
		t.Errorf("Demo shares state between calls (-want +got):\n%s", diff)
	}
}

func TestDemoStock(t *testing.T) {
	t.Parallel()
	c := Demo("USD")
	soldOut, variants, upTo120 := 0, 0, 0
	for _, p := range c.Products {
		inStock := false
		for _, v := range p.Variants {
			variants++
			if v.Stock <= 120 {
				upTo120++
			}
			if v.Stock > 0 {
				inStock = true
			}
		}
		if !inStock {
			soldOut++
		}
	}
	if soldOut == 0 || soldOut == len(c.Products) {
		t.Fatalf("%d of %d products are out of stock, want some but not all", soldOut, len(c.Products))
	}
	if pct := soldOut * 100 / len(c.Products); pct < 5 || pct > 12 {
		t.Errorf("%d%% of products are out of stock, want about 8%%", pct)
	}
	if pct := upTo120 * 100 / variants; pct < 80 {
		t.Errorf("%d%% of variants have stock 0–120, want most", pct)
	}
}

func TestDemoValidates(t *testing.T) {
	t.Parallel()
	for _, p := range Demo("USD").Products {
		if err := protovalidate.Validate(p); err != nil {
			t.Errorf("%s: %v", p.Slug, err)
		}
	}
}

// TestDemoSearchDemos checks what the search demo relies on.
func TestDemoSearchDemos(t *testing.T) {
	t.Parallel()
	c := Demo("USD")
	jackets := map[string]int{}
	brands := map[string]map[string]bool{}
	for _, p := range c.Products {
		if strings.Contains(p.Title, "Jacket") {
			jackets[p.Category]++
		}
		if brands[p.Brand] == nil {
			brands[p.Brand] = map[string]bool{}
		}
		brands[p.Brand][p.Category] = true
	}
	for _, s := range categorySpecs() {
		if s.outerwear && jackets[s.Slug] == 0 {
			t.Errorf("outerwear category %q has no jacket in a title", s.Slug)
		}
	}
	if n := len(brands); n < 12 || n > 18 {
		t.Errorf("%d brands, want about 15", n)
	}
	multi := 0
	for _, cats := range brands {
		if len(cats) >= 3 {
			multi++
		}
	}
	if multi < 3 {
		t.Errorf("%d brands span 3 or more categories, want several", multi)
	}

	tests := []struct {
		word     string
		in       func(*productv1.CreateProductRequest) string
		minCount int
	}{
		{"jacket", title, 15},
		{"waterproof", description, 10},
		{"leather", description, 10},
		{"organic cotton", description, 10},
		{"merino", description, 5},
		{"cast iron", description, 5},
	}
	for _, tt := range tests {
		n := 0
		for _, p := range c.Products {
			if strings.Contains(strings.ToLower(tt.in(p)), tt.word) {
				n++
			}
		}
		if n < tt.minCount {
			t.Errorf("%q is in %d products, want at least %d", tt.word, n, tt.minCount)
		}
	}
}

func title(p *productv1.CreateProductRequest) string       { return p.Title }
func description(p *productv1.CreateProductRequest) string { return p.Description }

func TestImages(t *testing.T) {
	t.Parallel()
	h := Images()
	const path = "/media/products/northwind-summit-down-jacket.svg"
	etag := get(t, h, http.MethodGet, path, nil).Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	tests := []struct {
		name       string
		method     string
		target     string
		header     http.Header
		wantStatus int
		wantSVG    string // the label, if the body is a drawing
	}{
		{name: "get", method: "GET", target: path, wantStatus: 200, wantSVG: "Northwind Summit Down Jacket"},
		{name: "second view", method: "GET", target: path + "?view=2", wantStatus: 200, wantSVG: "Northwind Summit Down Jacket"},
		{name: "head", method: "HEAD", target: path, wantStatus: 200},
		{name: "digits", method: "GET", target: "/media/products/kestrel-2-aero-trainer-42.svg", wantStatus: 200, wantSVG: "Kestrel 2 Aero Trainer 42"},
		{name: "long name", method: "GET", target: "/media/products/" + strings.Repeat("a", 30) + "-" + strings.Repeat("b-", 40) + "c.svg", wantStatus: 200},
		{name: "not modified", method: "GET", target: path, header: http.Header{"If-None-Match": {etag}}, wantStatus: 304},
		{name: "not modified weak", method: "GET", target: path, header: http.Header{"If-None-Match": {"W/" + etag}}, wantStatus: 304},
		{name: "not modified list", method: "GET", target: path, header: http.Header{"If-None-Match": {`"other", ` + etag}}, wantStatus: 304},
		{name: "not modified star", method: "GET", target: path, header: http.Header{"If-None-Match": {"*"}}, wantStatus: 304},
		{name: "other etag", method: "GET", target: path, header: http.Header{"If-None-Match": {`"other"`}}, wantStatus: 200, wantSVG: "Northwind Summit Down Jacket"},
		{name: "etag of another view", method: "GET", target: path + "?view=2", header: http.Header{"If-None-Match": {etag}}, wantStatus: 200, wantSVG: "Northwind Summit Down Jacket"},
		{name: "dot dot", method: "GET", target: "/media/products/..%2Fetc", wantStatus: 404},
		{name: "dot dot svg", method: "GET", target: "/media/products/..%2Fetc%2Fpasswd.svg", wantStatus: 404},
		{name: "script", method: "GET", target: "/media/products/%3Cscript%3Ealert(1)%3C%2Fscript%3E.svg", wantStatus: 404},
		{name: "upper case", method: "GET", target: "/media/products/Jacket.svg", wantStatus: 404},
		{name: "double dash", method: "GET", target: "/media/products/a--b.svg", wantStatus: 404},
		{name: "trailing dash", method: "GET", target: "/media/products/a-.svg", wantStatus: 404},
		{name: "no name", method: "GET", target: "/media/products/.svg", wantStatus: 404},
		{name: "png", method: "GET", target: "/media/products/jacket.png", wantStatus: 404},
		{name: "too long", method: "GET", target: "/media/products/" + strings.Repeat("a", 121) + ".svg", wantStatus: 404},
		{name: "bad view", method: "GET", target: path + "?view=%3Cb%3E", wantStatus: 404},
		{name: "view zero", method: "GET", target: path + "?view=0", wantStatus: 404},
		{name: "nested", method: "GET", target: "/media/products/a/b.svg", wantStatus: 404},
		{name: "post", method: "POST", target: path, wantStatus: 405},
		{name: "delete", method: "DELETE", target: path, wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, tt.method, tt.target, tt.header)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", res.StatusCode, tt.wantStatus, body)
			}
			if bytes.Contains(bytes.ToLower(body), []byte("<script")) || bytes.Contains(body, []byte("passwd")) {
				t.Errorf("body reflects the request: %q", body)
			}
			switch tt.wantStatus {
			case 200:
				checkHeaders(t, res)
				if tt.method == "HEAD" && len(body) != 0 {
					t.Errorf("HEAD has a body of %d bytes", len(body))
				}
				if tt.method == "GET" {
					label := checkSVG(t, body)
					if tt.wantSVG != "" && label != tt.wantSVG {
						t.Errorf("label = %q, want %q", label, tt.wantSVG)
					}
				}
			case 304:
				if len(body) != 0 || res.Header.Get("ETag") != etag {
					t.Errorf("304 with body %q and ETag %q", body, res.Header.Get("ETag"))
				}
			}
		})
	}
}

func TestImagesAreDeterministic(t *testing.T) {
	t.Parallel()
	h := Images()
	body := func(target string) (string, string) {
		res := get(t, h, "GET", target, nil)
		b, _ := io.ReadAll(res.Body)
		return string(b), res.Header.Get("ETag")
	}
	a1, e1 := body("/media/products/oakhurst-linen-duvet-cover.svg")
	a2, e2 := body("/media/products/oakhurst-linen-duvet-cover.svg?view=1")
	b1, f1 := body("/media/products/oakhurst-linen-duvet-cover.svg?view=2")
	c1, g1 := body("/media/products/oakhurst-linen-flat-sheet.svg")
	if a1 != a2 || e1 != e2 {
		t.Error("the same image differs between requests")
	}
	if a1 == b1 || e1 == f1 {
		t.Error("view 2 is the same as view 1")
	}
	if a1 == c1 || e1 == g1 {
		t.Error("two products have the same image")
	}
}

// TestRenderSVGEscapes feeds the drawing input the handler would never let
// through, to show it stays well-formed XML and shows the text as text.
func TestRenderSVGEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{name: `<script>x</script>`, want: `<script>x</script>`},
		{name: `a&b-c'd-]]>`, want: `A&b C'd ]]>`},
		{name: "tab\tnew\nline", want: "Tab new line"},
		{name: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			body := renderSVG(tt.name, 1)
			if bytes.Contains(body, []byte("<script")) {
				t.Errorf("unescaped markup in %s", body)
			}
			if got := checkSVG(t, body); got != tt.want {
				t.Errorf("label = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWrapLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		label string
		want  []string
	}{
		{"", []string{""}},
		{"Oak Desk Lamp", []string{"Oak Desk Lamp"}},
		{"Northwind Summit Packable Down Puffer Jacket", []string{"Northwind Summit", "Packable Down Puffer", "Jacket"}},
		{strings.Repeat("x", 30), []string{strings.Repeat("x", 24), "xxxxxx"}},
		{"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr", []string{
			"aaaa bbbb cccc dddd eeee", "ffff gggg hhhh iiii jjjj", "kkkk llll mmmm nnnn oooo", "pppp qqqq rrrr",
		}},
		{"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss tttt uuuu", []string{
			"aaaa bbbb cccc dddd eeee", "ffff gggg hhhh iiii jjjj", "kkkk llll mmmm nnnn oooo", "pppp qqqq rrrr ssss ttt…",
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, wrapLabel(tt.label)); diff != "" {
			t.Errorf("wrapLabel(%q) (-want +got):\n%s", tt.label, diff)
		}
	}
}

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func checkHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "image/svg+xml",
		"Cache-Control":          "public, max-age=86400",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if e := res.Header.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(e) {
		t.Errorf("ETag = %q", e)
	}
}

// checkSVG parses body as XML, checks it is an 800×800 SVG without scripts,
// and returns the label text (the <tspan>s, joined by spaces).
func checkSVG(t *testing.T, body []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	var (
		root  *xml.StartElement
		spans []string
		in    bool
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == nil {
				e := tok.Copy()
				root = &e
			}
			if tok.Name.Local == "script" || tok.Name.Local == "foreignObject" {
				t.Errorf("SVG has a <%s> element", tok.Name.Local)
			}
			if tok.Name.Local == "tspan" {
				in = true
				spans = append(spans, "")
			}
		case xml.EndElement:
			if tok.Name.Local == "tspan" {
				in = false
			}
		case xml.CharData:
			if in {
				spans[len(spans)-1] += string(tok)
			}
		}
	}
	if root == nil || root.Name.Local != "svg" || root.Name.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element is %v, want svg", root)
	}
	attrs := map[string]string{}
	for _, a := range root.Attr {
		attrs[a.Name.Local] = a.Value
	}
	if attrs["width"] != "800" || attrs["height"] != "800" {
		t.Errorf("size = %s×%s, want 800×800", attrs["width"], attrs["height"])
	}
	return strings.Join(spans, " ")
}
