// Package seed is the demo catalog that `emporium dev` and `emporium seed`
// load into the product service: 20 categories of a general-merchandise shop
// and 520 products with variants, prices, stock, attributes and images. Images
// point at /media/products/<slug>.svg, which Images serves as generated
// placeholders, so the demo needs no files and no network.
//
// Everything is deterministic: Demo returns the same catalog on every call and
// every run (it uses its own splitmix64 generator with constant seeds, never
// the time or math/rand's global state).
package seed

import (
	"fmt"
	"hash/fnv"
	"strings"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// Category is one category of the demo catalog.
type Category struct{ Slug, Name, Description string }

// Catalog is the demo catalog: categories first, then products that refer to
// them by slug.
type Catalog struct {
	Categories []Category
	// Products are ready to pass to ProductService.CreateProduct.
	// Variants[i].Stock carries the initial stock of that SKU; the API marks
	// Variant.stock read-only, so a seeder may have to apply it with
	// InventoryService.AdjustStock after CreateProduct.
	Products []*productv1.CreateProductRequest
}

const (
	// productsPerCategory × len(categories) = 26 × 20 = 520 products.
	productsPerCategory = 26
	// maxVariants caps the variants of one product.
	maxVariants = 6
	// seedBase seeds every category's generator (mixed with its slug), so a
	// change to one category's data leaves the others' products as they were.
	seedBase uint64 = 0x5eed_e3b0_2026_0001
	// outOfStockPerCategory products of each category have every variant
	// at zero stock: 40 of 520, about 8%.
	outOfStockPerCategory = 2
)

// Demo returns the demo catalog with every price in currency (an ISO 4217
// code such as "USD"; empty means "USD"). Amounts are minor units of a
// two-decimal currency, e.g. 4999 for 49.99. Each call builds a new catalog,
// so callers may change what they get.
func Demo(currency string) Catalog {
	return build(currency, func(int) int { return productsPerCategory })
}

// Generated returns a catalog of n products (for load tests and benchmarks,
// e.g. `emporium seed --products 100000`) from the demo's categories, words
// and rules: the same categories, n/20 products in each (the first n%20
// categories one more), with variants, prices, stock (about 8% sold out) and
// attributes. Like Demo it is deterministic, and Generated(c, 520) is
// Demo(c); slugs and titles stay unique, with a number once a category's
// word tables run out.
func Generated(currency string, n int) Catalog {
	categories := len(categorySpecs())
	return build(currency, func(i int) int {
		c := n / categories
		if i < n%categories {
			c++
		}
		return c
	})
}

// build makes the catalog with per(i) products in the i-th category.
func build(currency string, per func(i int) int) Catalog {
	if currency == "" {
		currency = "USD"
	}
	specs := categorySpecs()
	cat := Catalog{Categories: make([]Category, 0, len(specs))}
	seen := map[string]bool{}
	for i, s := range specs {
		cat.Categories = append(cat.Categories, s.Category)
		count := per(i)
		if count <= 0 {
			continue
		}
		r := newRNG(seedBase ^ hashString(s.Slug))
		// outOfStockPerCategory of every productsPerCategory, rounded.
		soldOut := map[int]bool{}
		for want := min(count, (count*outOfStockPerCategory+productsPerCategory/2)/productsPerCategory); len(soldOut) < want; {
			soldOut[r.intn(count)] = true
		}
		for j := range count {
			cat.Products = append(cat.Products, s.product(r, j, soldOut[j], currency, seen))
		}
	}
	return cat
}

// kv is one attribute.
type kv struct{ k, v string }

// material is what a product is made of (or, for coffee and tea, the beans
// or leaves).
type material struct {
	name   string // attribute value, e.g. "Waxed cotton"
	title  string // word(s) for titles, may be empty, e.g. "Waxed Cotton"
	phrase string // completes "made from ...", e.g. "dense waxed cotton that ..."
	extra  []kv   // attributes that come with the material
}

// noun is a kind of product within a category, e.g. "Field Jacket".
type noun struct {
	name     string
	mats     []string // names of the category's materials that suit it; nil means all
	attrs    []kv     // fixed attributes, e.g. blade length for a paring knife
	axes     []axis   // variant options; nil means the category's
	standard bool     // one "Standard" variant, whatever the category's axes
	adjs     []string // override the category's adjectives
	article  string   // "a pair of", "a box of"; empty means the category's, else "a"/"an"
	features []string // override the category's feature sentences
	uses     []string // override the category's use sentences
}

// pickMode says how an axis chooses its values.
type pickMode int

const (
	pickAny        pickMode = iota // any distinct values, in list order
	pickContiguous                 // a run of neighbours, e.g. sizes M–XL
	pickFromStart                  // the first n, e.g. 250 g, 500 g
)

// axis is one variant option such as colour or size.
type axis struct {
	key      string
	values   []string
	permille []int // price factor per value in thousandths; nil means 1000 for all
	min, max int
	mode     pickMode
}

// attrSpec is an attribute with the values a product may draw from.
type attrSpec struct {
	key    string
	values []string
}

// categorySpec is everything needed to make a category's products.
type categorySpec struct {
	Category
	code      string // SKU prefix, unique per category
	outerwear bool   // at least one title says "Jacket"
	lo, hi    int64  // base price range in major units
	brands    []string
	nouns     []noun // used in turn, so every noun appears
	adjs      []string
	models    []string // model names, origins or scents
	// modelChance is the percentage of titles that carry a model word; 100
	// when modelAttr is set.
	modelChance int
	modelAttr   string              // attribute that records the model word, e.g. "origin"
	modelPhrase func(string) string // description phrase for the model word, e.g. "from Kenya"
	adjAttr     string              // attribute that records the adjective, e.g. "roast"
	matKey      string              // attribute key of the material; "material" when empty
	mats        []material          // materials
	features    []string            // second sentences
	uses        []string            // last sentences
	attrs       []attrSpec          // extra attributes, one value each
	axes        []axis              // variant options, at most two; none means "Standard"
	article     string              // for every noun, e.g. "a pair of" for sunglasses
	scene       string              // for the third image's alt text
}

func (s *categorySpec) material(name string) material {
	for _, m := range s.mats {
		if m.name == name {
			return m
		}
	}
	panic(fmt.Sprintf("seed: category %s: unknown material %q", s.Slug, name))
}

// product makes the category's product number j (0-based).
//
// seen holds the slugs ("slug:...") and titles ("title:...") made so far.
func (s *categorySpec) product(r *rng, j int, soldOut bool, currency string, seen map[string]bool) *productv1.CreateProductRequest {
	n := s.nouns[j%len(s.nouns)]
	brand := pick(r, s.brands)
	adjs := s.adjs
	if n.adjs != nil {
		adjs = n.adjs
	}

	var (
		title, slug, model, adj string
		mat                     material
	)
	// Draw until the title and slug are new; the tables make a repeat rare.
	for attempt := 0; ; attempt++ {
		mat = s.pickMaterial(r, n)
		model, adj = "", ""
		if len(s.models) > 0 && (s.modelAttr != "" || r.chance(s.modelChance)) {
			model = pick(r, s.models)
		}
		if len(adjs) > 0 && (model == "" || s.adjAttr != "" || r.chance(65)) {
			adj = pick(r, adjs)
		}
		matTitle := ""
		if mat.title != "" && r.chance(60) {
			matTitle = mat.title
		}
		title = joinTitle(model, adj, matTitle, n.name)
		slug = slugify(brand + " " + title)
		if attempt >= 20 {
			slug = fmt.Sprintf("%s-%d", slug, j+1)
		}
		if !seen["slug:"+slug] && (!seen["title:"+title] || attempt >= 20) {
			break
		}
	}
	seen["slug:"+slug], seen["title:"+title] = true, true

	p := &productv1.CreateProductRequest{
		Slug:        slug,
		Title:       title,
		Description: s.description(r, n, adj, model, mat),
		Brand:       brand,
		Category:    s.Slug,
		Attributes:  s.attributes(r, n, adj, model, mat),
		Status:      productv1.ProductStatus_PRODUCT_STATUS_ACTIVE,
	}
	p.Variants = s.variants(r, n, j, soldOut, currency)
	p.Images = images(r, slug, title, brand, mat, s.scene)
	return p
}

func (s *categorySpec) pickMaterial(r *rng, n noun) material {
	if len(n.mats) == 0 {
		return pick(r, s.mats)
	}
	return s.material(pick(r, n.mats))
}

// joinTitle joins the title's parts, leaving out any part that repeats a word
// of a later one ("Waterproof Waterproof Shell Jacket", "Canvas Canvas
// Sneaker").
func joinTitle(parts ...string) string {
	seen := map[string]bool{}
	var kept []string
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if p == "" {
			continue
		}
		words := titleWords(p)
		dup := false
		for _, w := range words {
			if seen[w] {
				dup = true
			}
		}
		if dup {
			continue
		}
		for _, w := range words {
			seen[w] = true
		}
		kept = append(kept, p)
	}
	for i, k := 0, len(kept)-1; i < k; i, k = i+1, k-1 {
		kept[i], kept[k] = kept[k], kept[i]
	}
	return strings.Join(kept, " ")
}

// titleWords splits a title part into lower-case words for joinTitle.
func titleWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(c rune) bool {
		return c == ' ' || c == '-'
	})
}

func (s *categorySpec) description(r *rng, n noun, adj, model string, mat material) string {
	// "A lightweight parka made from lightweight ..." drops the first one.
	if strings.Contains(mat.phrase, strings.ToLower(adj)) {
		adj = ""
	}
	thing := lowerWords(strings.TrimSpace(adj + " " + n.name))
	art := n.article
	if art == "" {
		art = s.article
	}
	if art == "" {
		art = article(thing)
	}
	first := art + " " + thing
	if model != "" && s.modelPhrase != nil {
		first += " " + s.modelPhrase(model) + ","
	}
	sentences := []string{capitalize(first) + " made from " + mat.phrase + "."}
	features, uses := s.features, s.uses
	if n.features != nil {
		features = n.features
	}
	if n.uses != nil {
		uses = n.uses
	}
	if r.chance(75) {
		sentences = append(sentences, pick(r, features))
	}
	sentences = append(sentences, pick(r, uses))
	return strings.Join(sentences, " ")
}

func (s *categorySpec) attributes(r *rng, n noun, adj, model string, mat material) map[string]string {
	key := s.matKey
	if key == "" {
		key = "material"
	}
	a := map[string]string{key: mat.name}
	for _, e := range mat.extra {
		a[e.k] = e.v
	}
	for _, as := range s.attrs {
		a[as.key] = pick(r, as.values)
	}
	for _, e := range n.attrs {
		a[e.k] = e.v
	}
	if s.modelAttr != "" && model != "" {
		a[s.modelAttr] = model
	}
	if s.adjAttr != "" && adj != "" {
		a[s.adjAttr] = adj
	}
	return a
}

// choice is one value picked on an axis.
type choice struct {
	key, value string
	permille   int
}

func (a axis) pick(r *rng, limit int) []choice {
	hi := min(a.max, limit, len(a.values))
	lo := min(a.min, hi)
	n := lo + r.intn(hi-lo+1)
	var idx []int
	switch a.mode {
	case pickFromStart:
		for i := range n {
			idx = append(idx, i)
		}
	case pickContiguous:
		start := r.intn(len(a.values) - n + 1)
		for i := range n {
			idx = append(idx, start+i)
		}
	default:
		chosen := map[int]bool{}
		for len(chosen) < n {
			chosen[r.intn(len(a.values))] = true
		}
		for i := range a.values {
			if chosen[i] {
				idx = append(idx, i)
			}
		}
	}
	out := make([]choice, 0, n)
	for _, i := range idx {
		pm := 1000
		if a.permille != nil {
			pm = a.permille[i]
		}
		out = append(out, choice{key: a.key, value: a.values[i], permille: pm})
	}
	return out
}

func (s *categorySpec) variants(r *rng, n noun, j int, soldOut bool, currency string) []*productv1.Variant {
	axes := s.axes
	if n.axes != nil {
		axes = n.axes
	}
	if n.standard {
		axes = nil
	}
	// combos is the cross product of the picked values, first axis outermost.
	combos := [][]choice{nil}
	for _, a := range axes {
		picked := a.pick(r, maxVariants/len(combos))
		var next [][]choice
		for _, c := range combos {
			for _, p := range picked {
				next = append(next, append(append([]choice(nil), c...), p))
			}
		}
		combos = next
	}

	base := s.basePrice(r)
	ending := priceEnding(r, base)
	prefix := fmt.Sprintf("%s-%03d", s.code, j+1)

	vs := make([]*productv1.Variant, 0, len(combos))
	for _, c := range combos {
		v := &productv1.Variant{
			Sku:   prefix,
			Title: "Standard",
			Price: &typev1.Money{Amount: variantPrice(base, ending, c), Currency: currency},
			Stock: stock(r, soldOut),
			// Deterministic without drawing from r, so the rest of the
			// catalog stays the same seed after seed.
			WeightGrams: shippingGrams(s.code, j),
		}
		if len(c) > 0 {
			titles := make([]string, 0, len(c))
			v.Options = make(map[string]string, len(c))
			for _, ch := range c {
				v.Options[ch.key] = ch.value
				titles = append(titles, ch.value)
				v.Sku += "-" + skuCode(ch.value)
			}
			v.Title = strings.Join(titles, " / ")
		}
		vs = append(vs, v)
	}
	// Only the chosen products are sold out; the others keep something in
	// stock, so "in stock" filters have a known effect.
	if !soldOut && !anyInStock(vs) {
		vs[len(vs)-1].Stock = 10 + r.int63n(111)
	}
	return vs
}

// typicalGrams is a packed item's usual weight per category (SKU prefix).
var typicalGrams = map[string]int64{
	"JKT": 1200, "RNW": 700, "KNT": 500, "TSH": 200, "SNK": 1100, "BOT": 1600,
	"BPK": 900, "WLT": 150, "WCH": 250, "HPH": 450, "COF": 300, "TEA": 150,
	"KNF": 350, "CKW": 2200, "BTL": 450, "LMP": 1800, "BED": 1500, "CND": 400,
	"NTB": 250, "SUN": 120,
}

// shippingGrams spreads a category's typical weight from 80 % to 120 %.
func shippingGrams(code string, j int) int64 {
	base, ok := typicalGrams[code]
	if !ok {
		base = 500
	}
	return base * int64(80+(j*37)%41) / 100
}

func anyInStock(vs []*productv1.Variant) bool {
	for _, v := range vs {
		if v.Stock > 0 {
			return true
		}
	}
	return false
}

// basePrice draws a price in major units from the category's range, leaning
// towards its cheaper end, rounded the way shops round.
func (s *categorySpec) basePrice(r *rng) int64 {
	d := s.hi - s.lo
	x := r.int63n(d + 1)
	y := r.int63n(d+1) * r.int63n(d+1) / max(d, 1)
	return roundMajor(s.lo + (x+y)/2)
}

// roundMajor rounds a price in major units to 5 above 100 and to 10 above 300.
func roundMajor(b int64) int64 {
	switch {
	case b >= 300:
		return (b + 5) / 10 * 10
	case b >= 100:
		return (b + 2) / 5 * 5
	case b < 1:
		return 1
	}
	return b
}

// Price endings, in minor units below the whole amount.
const (
	ending99 = 1  // 49.99
	ending00 = 0  // 49.00
	ending50 = 50 // 48.50
)

func priceEnding(r *rng, base int64) int64 {
	switch n := r.intn(100); {
	case n < 68:
		return ending99
	case n < 94 || base >= 40:
		return ending00
	default:
		return ending50
	}
}

// variantPrice is base × the options' price factors, rounded again and given
// the product's ending; always positive.
func variantPrice(base, ending int64, c []choice) int64 {
	major := base * 1000
	for _, ch := range c {
		major = major * int64(ch.permille) / 1000
	}
	b := base
	if major != base*1000 {
		b = roundMajor((major + 500) / 1000)
	}
	return max(b*100-ending, 1)
}

// stock is a variant's initial stock: mostly 10–120, sometimes none or a
// few left, now and then a deep stock of a best seller.
func stock(r *rng, soldOut bool) int64 {
	if soldOut {
		return 0
	}
	switch n := r.intn(100); {
	case n < 10:
		return 0
	case n < 25:
		return 1 + r.int63n(9)
	case n < 95:
		return 10 + r.int63n(111)
	default:
		return 121 + r.int63n(180)
	}
}

// images returns 1–3 images; the first is the product's main picture.
func images(r *rng, slug, title, brand string, mat material, scene string) []*productv1.Image {
	url := "/media/products/" + slug + ".svg"
	imgs := []*productv1.Image{{Url: url, Alt: title + " by " + brand}}
	n := 1 + r.intn(3)
	if n >= 2 {
		imgs = append(imgs, &productv1.Image{
			Url: url + "?view=2",
			Alt: title + ", close-up of the " + strings.ToLower(mat.name),
		})
	}
	if n >= 3 {
		imgs = append(imgs, &productv1.Image{Url: url + "?view=3", Alt: title + " " + scene})
	}
	return imgs
}

// slugify turns "Alder & Pine Chef's Knife" into "alder-pine-chefs-knife".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c == '\'' || c == '’':
			// "Chef's" → "chefs"
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > 120 {
		out = strings.TrimRight(out[:120], "-")
	}
	return out
}

// skuCode turns an option value into SKU characters: "Forest Green" →
// "FORESTGREEN", "EU 42" → "EU42", "1 L" → "1L".
func skuCode(v string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(v) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// lowerWords lower-cases a title for running text but keeps acronyms such as
// "RFID" and "EU": "RFID-Blocking Slim Wallet" → "RFID-blocking slim wallet".
func lowerWords(s string) string {
	var b strings.Builder
	start := 0
	flush := func(end int) {
		w := s[start:end]
		if len(w) > 1 && strings.ToUpper(w) == w && strings.ToLower(w) != w {
			b.WriteString(w)
		} else {
			b.WriteString(strings.ToLower(w))
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '-' {
			flush(i)
			b.WriteByte(s[i])
			start = i + 1
		}
	}
	flush(len(s))
	return b.String()
}

// article is "a" or "an" for the phrase that follows it.
func article(phrase string) string {
	if phrase == "" {
		return "a"
	}
	// Acronyms go by the letter's name: "an RFID-blocking", "a GMT".
	if first, _, _ := strings.Cut(phrase, "-"); len(first) > 1 && strings.ToUpper(first) == first {
		if strings.ContainsRune("AEFHILMNORSX", rune(first[0])) {
			return "an"
		}
		return "a"
	}
	p := strings.ToLower(phrase)
	switch p[0] {
	case 'a', 'e', 'i', 'o':
		return "an"
	case 'u':
		if strings.HasPrefix(p, "uni") || strings.HasPrefix(p, "uti") || strings.HasPrefix(p, "use") {
			return "a"
		}
		return "an"
	}
	return "a"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// rng is splitmix64: tiny, fast, and the same sequence on every platform.
type rng struct{ state uint64 }

func newRNG(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// int63n returns a number in [0, n); n must be positive. The modulo bias is
// far below anything a demo catalog could show.
func (r *rng) int63n(n int64) int64 { return int64(r.next()>>1) % n }

func (r *rng) intn(n int) int { return int(r.int63n(int64(n))) }

// chance is true pct times in a hundred.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
