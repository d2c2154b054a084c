// Package product is the catalog service: products, variants, prices,
// categories, stock and search. It implements ProductService and
// InventoryService from api/emporium/product/v1.
package product

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/search"
)

// Deps are what the service needs from the outside.
type Deps struct {
	DB       *bun.DB      // migrated with Migrations
	Index    search.Index // kept current on every write
	Currency string       // the shop's ISO 4217 currency, e.g. "USD"
	Log      *slog.Logger
	Now      func() time.Time // defaults to time.Now
	// CacheTTL keeps GetProduct and ListProducts answers this long. Writes
	// through this process clear the cache at once; writes through another
	// replica show after at most CacheTTL, or at once with SharedCache.
	// 0 turns the cache off.
	CacheTTL time.Duration
	// SharedCache, when set, makes every replica's read cache drop its
	// entries the moment any replica writes (Redis, --redis-url).
	SharedCache *SharedCache
	// JobPoll is how often this process looks for outbox jobs (index
	// updates) other processes inserted; 0 means River's default.
	JobPoll time.Duration
	// Analytics keeps search analytics; nil means the service's database.
	Analytics analytics.Store
	// AnalyticsRetention is how long search analytics are kept: 0 means
	// DefaultAnalyticsRetention, negative forever.
	AnalyticsRetention time.Duration
	// Media keeps uploaded product images (served by MediaHandler); nil
	// refuses uploads.
	Media blob.Store
}

// Service implements the product API.
type Service struct {
	store    *store
	index    search.Index
	currency string
	log      *slog.Logger
	now      func() time.Time
	cache    *readCache
	// jobs is the outbox that carries every change of a search document
	// to the index (queueIndex); stripes serialise one product's writes.
	jobs    *jobs.Client
	stripes stripes
	// catchingUp serialises CatchUp: the rebuild on start and dev's own.
	catchingUp sync.Mutex
	// Search analytics (analytics.go): events go through the recorder.
	searchStats analytics.Store
	recorder    *analytics.Recorder
	salt        *sessionSalt
	media       blob.Store
}

var (
	_ productv1connect.ProductServiceHandler         = (*Service)(nil)
	_ productv1connect.InventoryServiceHandler       = (*Service)(nil)
	_ productv1connect.SearchAnalyticsServiceHandler = (*Service)(nil)
)

// New checks deps and returns the service.
func New(d Deps) (*Service, error) {
	switch {
	case d.DB == nil:
		return nil, errors.New("product: DB is required")
	case d.Index == nil:
		return nil, errors.New("product: Index is required")
	case len(d.Currency) != 3:
		return nil, fmt.Errorf("product: currency %q is not an ISO 4217 code", d.Currency)
	case d.Log == nil:
		return nil, errors.New("product: Log is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{
		store: &store{db: d.DB}, index: d.Index, currency: d.Currency, log: d.Log, now: d.Now,
		cache: newReadCache(d.CacheTTL, 10000), media: d.Media,
	}
	if d.SharedCache != nil {
		s.cache.shared = d.SharedCache
		d.SharedCache.attach(s.cache.drop)
	}
	s.store.changed = s.queueIndex
	s.initAnalytics(d)
	w := river.NewWorkers()
	river.AddWorker(w, river.WorkFunc(s.indexJob))
	jc, err := jobs.New(d.DB, jobs.Config{
		Workers: w, Queues: map[string]int{"default": 4}, Log: d.Log, FetchPollInterval: d.JobPoll,
		// While the index is down, retry after 1 s, 2 s, 4 s … up to a
		// minute: the backlog drains soon after it is back.
		RetryPolicy: jobs.Backoff{Base: time.Second, Max: time.Minute},
		// Never give up on an index update while the index is away.
		MaxAttempts: 1000,
	})
	if err != nil {
		return nil, err
	}
	s.jobs = jc
	return s, nil
}

// Migrate brings everything the service keeps in a database up to date:
// Migrations, then River's tables (its outbox of index updates) and
// processed_events. It returns the service migrations it applied.
var Migrate = jobs.MigrateWith("product", Migrations)

// Start works the outbox (index updates) and writes search analytics until
// Stop.
func (s *Service) Start(ctx context.Context) error {
	s.recorder.Start(ctx)
	return s.jobs.Start(ctx)
}

// Stop waits for running jobs and writes the analytics still buffered, or
// gives up when ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.recorder.Stop(ctx)
	return s.jobs.Stop(ctx)
}

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{productv1connect.ProductServiceName, productv1connect.InventoryServiceName, productv1connect.SearchAnalyticsServiceName}

// Mount registers the Connect handlers on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	opts = append(opts[:len(opts):len(opts)], codecOptions(s.cache.ttl > 0)...)
	mux.Handle(productv1connect.NewProductServiceHandler(s, opts...))
	mux.Handle(productv1connect.NewInventoryServiceHandler(s, opts...))
	mux.Handle(productv1connect.NewSearchAnalyticsServiceHandler(s, opts...))
}

// ListProducts implements ProductService.
func (s *Service) ListProducts(ctx context.Context, req *productv1.ListProductsRequest) (*productv1.ListProductsResponse, error) {
	key := fmt.Sprintf("list|%d|%d|%s", filterHash(req), req.GetPageSize(), req.GetPageToken())
	res, err := s.cache.load(ctx, key, s.now(), func(ctx context.Context) (any, error) { return s.listProducts(ctx, req) })
	if err != nil {
		return nil, err
	}
	return res.(*productv1.ListProductsResponse), nil
}

func (s *Service) listProducts(ctx context.Context, req *productv1.ListProductsRequest) (*productv1.ListProductsResponse, error) {
	if _, ok := sortKeys[req.GetSort()]; !ok {
		return nil, errs.Invalidf("sort %d is not a ProductSort value", req.GetSort())
	}
	size := paging.Size(req.GetPageSize())
	filter := filterHash(req)
	f := listFilter{
		Category:    req.GetCategory(),
		MinPrice:    req.MinPrice,
		MaxPrice:    req.MaxPrice,
		InStockOnly: req.GetInStockOnly(),
		Sort:        req.GetSort(),
		Limit:       size + 1,
	}
	if req.GetPageToken() != "" {
		c := new(listCursor)
		if err := paging.Decode(req.GetPageToken(), c); err != nil {
			return nil, err
		}
		if c.Filter != filter {
			return nil, errs.Invalidf("page_token belongs to a request with other filters or sort: start again without it")
		}
		if !c.fits(req.GetSort()) {
			return nil, errs.Invalidf("page_token is not valid: pass next_page_token from a previous response unchanged")
		}
		f.After = c
	}
	rows, err := s.store.listProducts(ctx, f)
	if err != nil {
		return nil, err
	}
	res := &productv1.ListProductsResponse{}
	if len(rows) > size {
		rows = rows[:size]
		res.NextPageToken = paging.Encode(cursorAfter(rows[len(rows)-1], req.GetSort(), filter))
	}
	res.Products = make([]*productv1.Product, len(rows))
	for i, r := range rows {
		res.Products[i] = r.toProto()
	}
	return res, nil
}

func (s *Service) getProduct(ctx context.Context, req *productv1.GetProductRequest) (*productv1.GetProductResponse, error) {
	var column, value string
	switch key := req.GetKey().(type) {
	case *productv1.GetProductRequest_Id:
		column, value = "id", key.Id
	case *productv1.GetProductRequest_Slug:
		column, value = "slug", key.Slug
	default:
		return nil, errs.Invalidf("id or slug is required")
	}
	res, err := s.cache.load(ctx, column+"|"+value, s.now(), func(ctx context.Context) (any, error) {
		row, err := s.store.product(ctx, column, value)
		if err != nil {
			return nil, err
		}
		return &productv1.GetProductResponse{Product: row.toProto()}, nil
	})
	if err != nil {
		return nil, err
	}
	return res.(*productv1.GetProductResponse), nil
}

// productsByID reads products as GetProduct by id does: from the read
// cache, the rest from the database in one query, which fills the cache
// for GetProduct and the next searches. Cached products are shared: never
// modify them.
func (s *Service) productsByID(ctx context.Context, ids []string) (map[string]*productv1.Product, error) {
	now := s.now()
	out := make(map[string]*productv1.Product, len(ids))
	var missing []string
	var gen uint64
	for i, id := range ids {
		v, g, ok := s.cache.get("id|"+id, now)
		if i == 0 {
			gen = g // the generation before any read: a write since keeps the rows out
		}
		if ok {
			out[id] = v.(*productv1.GetProductResponse).GetProduct()
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := s.store.productsByID(ctx, missing)
	if err != nil {
		return nil, err
	}
	for id, row := range rows {
		p := row.toProto()
		out[id] = p
		s.cache.put("id|"+id, &productv1.GetProductResponse{Product: p}, gen, now)
	}
	return out, nil
}

// ListCategories implements ProductService.
func (s *Service) ListCategories(ctx context.Context, req *productv1.ListCategoriesRequest) (*productv1.ListCategoriesResponse, error) {
	if req.GetIncludeArchived() && !isStaff(ctx) {
		return nil, errs.PermissionDeniedf("include_archived is for staff only")
	}
	cats, counts, err := s.store.categories(ctx, req.GetIncludeArchived())
	if err != nil {
		return nil, err
	}
	res := &productv1.ListCategoriesResponse{Categories: make([]*productv1.Category, len(cats))}
	for i := range cats {
		res.Categories[i] = cats[i].toProto(counts[cats[i].Slug])
	}
	return res, nil
}

// SearchProducts implements ProductService.
func (s *Service) SearchProducts(ctx context.Context, req *productv1.SearchProductsRequest) (*productv1.SearchProductsResponse, error) {
	if strings.TrimSpace(req.GetQuery()) == "" {
		return nil, errs.Invalidf("query is blank: say what to look for")
	}
	started := time.Now()
	size := paging.Size(req.GetPageSize())
	hash := searchHash(req)
	offset, searchID := 0, ""
	if req.GetPageToken() != "" {
		c := new(searchCursor)
		if err := paging.Decode(req.GetPageToken(), c); err != nil {
			return nil, err
		}
		if c.Query != hash {
			return nil, errs.Invalidf("page_token belongs to another search: start again without it")
		}
		if c.Offset < 0 || c.Offset >= search.MaxWindow {
			return nil, errs.Invalidf("page_token is not valid: pass next_page_token from a previous response unchanged")
		}
		offset, searchID = c.Offset, c.SearchID
		size = min(size, search.MaxWindow-offset) // the last page ends at the window
	}
	if req.GetPriceBand() != "" {
		if _, ok := search.BandByKey(req.GetPriceBand()); !ok {
			return nil, errs.Invalidf("price_band %q is not a value of the price facet", req.GetPriceBand())
		}
	}
	result, err := s.index.Search(ctx, search.Query{
		Text:      req.GetQuery(),
		Category:  req.GetCategory(),
		Brand:     req.GetBrand(),
		PriceBand: req.GetPriceBand(),
		Offset:    offset,
		Limit:     size,
	})
	if err != nil {
		return nil, searchError(err)
	}
	ids := make([]string, len(result.Hits))
	for i, h := range result.Hits {
		ids[i] = h.ID
	}
	products, err := s.productsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	res := &productv1.SearchProductsResponse{TotalSize: result.Total}
	for _, h := range result.Hits {
		p, ok := products[h.ID]
		if !ok || p.GetStatus() != productv1.ProductStatus_PRODUCT_STATUS_ACTIVE {
			// The index is behind the database (a failed sync); skip the
			// hit rather than show a product that is gone.
			s.log.WarnContext(ctx, "search hit not active in the catalog; run `emporium reindex`", "product_id", h.ID)
			continue
		}
		hit := &productv1.SearchHit{Product: p, Score: h.Score}
		for field, frags := range h.Highlights {
			if hit.Highlights == nil {
				hit.Highlights = map[string]*productv1.Snippets{}
			}
			hit.Highlights[field] = &productv1.Snippets{Fragments: frags}
		}
		res.Hits = append(res.Hits, hit)
	}
	for _, f := range result.Facets {
		pf := &productv1.Facet{Name: f.Name}
		for _, v := range f.Values {
			pf.Values = append(pf.Values, &productv1.FacetValue{Value: v.Value, Label: v.Label, Count: v.Count})
		}
		res.Facets = append(res.Facets, pf)
	}
	if searchID == "" {
		searchID = newID()
		s.recordSearch(ctx, req, searchID, result.Total, time.Since(started))
	}
	res.SearchId = searchID
	if next := offset + len(result.Hits); int64(next) < result.Total && next < search.MaxWindow {
		res.NextPageToken = paging.Encode(searchCursor{Offset: next, Query: hash, SearchID: searchID})
	}
	return res, nil
}

// CreateProduct implements ProductService.
func (s *Service) CreateProduct(ctx context.Context, req *productv1.CreateProductRequest) (*productv1.CreateProductResponse, error) {
	row, err := s.newProductRow(req, false)
	if err != nil {
		return nil, err
	}
	if err := s.store.createProduct(ctx, row); err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.CreateProductResponse{Product: row.toProto()}, nil
}

// newProductRow builds the row of a new product. keepStock takes the initial
// stock from the request's variants (for seeding); the public API always
// starts at zero and changes stock through InventoryService.
func (s *Service) newProductRow(req *productv1.CreateProductRequest, keepStock bool) (*productRow, error) {
	now := micros(s.now())
	status := req.GetStatus()
	if status == productv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED {
		status = productv1.ProductStatus_PRODUCT_STATUS_ACTIVE
	}
	row := &productRow{
		ID:          newID(),
		Slug:        req.GetSlug(),
		Title:       req.GetTitle(),
		Description: req.GetDescription(),
		Brand:       req.GetBrand(),
		Category:    req.GetCategory(),
		Status:      int32(status),
		Currency:    s.currency,
		Images:      imagesFromProto(req.GetImages()),
		Attributes:  req.GetAttributes(),
		Version:     1,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := s.setVariants(row, req.GetVariants(), keepStock); err != nil {
		return nil, err
	}
	return row, nil
}

// setVariants replaces row's variants with vs, checking SKUs are distinct and
// prices are in the shop currency, and sets the product's "from" price.
func (s *Service) setVariants(row *productRow, vs []*productv1.Variant, keepStock bool) error {
	stock := map[string]int64{}
	for _, v := range row.Variants {
		stock[v.SKU] = v.Stock
	}
	seen := map[string]bool{}
	row.Variants = make([]*variantRow, 0, len(vs))
	for i, v := range vs {
		if seen[v.GetSku()] {
			return errs.Invalidf("variants[%d].sku: %q appears twice", i, v.GetSku())
		}
		seen[v.GetSku()] = true
		if c := v.GetPrice().GetCurrency(); c != s.currency {
			return errs.Invalidf("variants[%d].price.currency: %q is not the shop currency %q", i, c, s.currency)
		}
		vr := &variantRow{
			SKU: v.GetSku(), ProductID: row.ID, Position: i, Title: variantTitle(v),
			Options: v.GetOptions(), Price: v.GetPrice().GetAmount(), Currency: s.currency,
			Stock: stock[v.GetSku()], WeightGrams: v.GetWeightGrams(),
		}
		if keepStock {
			vr.Stock = max(v.GetStock(), 0)
		}
		row.Variants = append(row.Variants, vr)
	}
	row.Price = 0
	for i, v := range row.Variants {
		if i == 0 || v.Price < row.Price {
			row.Price = v.Price
		}
	}
	return nil
}

func variantTitle(v *productv1.Variant) string {
	if v.GetTitle() != "" {
		return v.GetTitle()
	}
	keys := make([]string, 0, len(v.GetOptions()))
	for k := range v.GetOptions() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	title := ""
	for i, k := range keys {
		if i > 0 {
			title += " / "
		}
		title += v.GetOptions()[k]
	}
	if title == "" {
		title = "Standard"
	}
	return title
}

func imagesFromProto(ims []*productv1.Image) []imageJSON {
	out := make([]imageJSON, 0, len(ims))
	for _, im := range ims {
		out = append(out, imageJSON{URL: im.GetUrl(), Alt: im.GetAlt()})
	}
	return out
}

// updatablePaths are the field-mask paths UpdateProduct accepts.
var updatablePaths = []string{"slug", "title", "description", "brand", "category", "images", "attributes", "status", "variants"}

// UpdateProduct implements ProductService.
func (s *Service) UpdateProduct(ctx context.Context, req *productv1.UpdateProductRequest) (*productv1.UpdateProductResponse, error) {
	in := req.GetProduct()
	if in.GetId() == "" {
		return nil, errs.Invalidf("product.id is required")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, errs.Invalidf("update_mask must name at least one field")
	}
	for _, p := range paths {
		if !slices.Contains(updatablePaths, p) {
			return nil, errs.Invalidf("update_mask: %q cannot be updated; use one of %v", p, updatablePaths)
		}
	}
	var expect int64
	if req.GetEtag() != "" {
		if _, err := fmt.Sscan(req.GetEtag(), &expect); err != nil || expect <= 0 {
			return nil, errs.Invalidf("etag %q is not one this service gave out", req.GetEtag())
		}
	}
	var dropped []string // images the update removes
	row, err := s.store.updateProduct(ctx, in.GetId(), expect, func(row *productRow) (bool, error) {
		variantsChanged := false
		for _, p := range paths {
			switch p {
			case "slug":
				row.Slug = in.GetSlug()
			case "title":
				row.Title = in.GetTitle()
			case "description":
				row.Description = in.GetDescription()
			case "brand":
				row.Brand = in.GetBrand()
			case "category":
				row.Category = in.GetCategory()
			case "images":
				images := imagesFromProto(in.GetImages())
				dropped = removedImages(row.Images, images)
				row.Images = images
			case "attributes":
				row.Attributes = in.GetAttributes()
			case "status":
				if in.GetStatus() == productv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED {
					return false, errs.Invalidf("product.status must be set when update_mask names it")
				}
				row.Status = int32(in.GetStatus())
			case "variants":
				if err := s.setVariants(row, in.GetVariants(), false); err != nil {
					return false, err
				}
				variantsChanged = true
			}
		}
		row.UpdatedAt = micros(s.now())
		// The merged product must pass the same rules as a new one.
		return variantsChanged, validateAsCreate(row)
	})
	if err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	s.dropUploads(ctx, row.ID, dropped...)
	return &productv1.UpdateProductResponse{Product: row.toProto()}, nil
}

// validateAsCreate runs the CreateProductRequest rules over a stored
// product, so an update can never store what a create would refuse.
func validateAsCreate(row *productRow) error {
	p := row.toProto()
	req := &productv1.CreateProductRequest{
		Slug: p.Slug, Title: p.Title, Description: p.Description, Brand: p.Brand,
		Category: p.Category, Variants: p.Variants, Images: p.Images, Attributes: p.Attributes,
	}
	if p.Status != productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED {
		req.Status = p.Status
	}
	err := protovalidate.Validate(req)
	var verr *protovalidate.ValidationError
	if errors.As(err, &verr) {
		cerr := connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("product: %w", err))
		if detail, derr := connect.NewErrorDetail(verr.ToProto()); derr == nil {
			cerr.AddDetail(detail)
		}
		return cerr
	}
	return err
}

// ArchiveProduct implements ProductService.
func (s *Service) ArchiveProduct(ctx context.Context, req *productv1.ArchiveProductRequest) (*productv1.ArchiveProductResponse, error) {
	archived := int32(productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED)
	row, err := s.store.updateProduct(ctx, req.GetId(), 0, func(row *productRow) (bool, error) {
		if row.Status != archived {
			row.Status = archived
			row.UpdatedAt = micros(s.now())
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.ArchiveProductResponse{Product: row.toProto()}, nil
}

// RestoreProduct implements ProductService.
func (s *Service) RestoreProduct(ctx context.Context, req *productv1.RestoreProductRequest) (*productv1.RestoreProductResponse, error) {
	archived := int32(productv1.ProductStatus_PRODUCT_STATUS_ARCHIVED)
	row, err := s.store.updateProduct(ctx, req.GetId(), 0, func(row *productRow) (bool, error) {
		if row.Status == archived {
			row.Status = active
			row.UpdatedAt = micros(s.now())
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.RestoreProductResponse{Product: row.toProto()}, nil
}

// GetStock implements InventoryService.
func (s *Service) GetStock(ctx context.Context, req *productv1.GetStockRequest) (*productv1.GetStockResponse, error) {
	rows, err := s.store.stockLevels(ctx, req.GetSkus())
	if err != nil {
		return nil, err
	}
	res := &productv1.GetStockResponse{Levels: make([]*productv1.StockLevel, len(rows))}
	for i, r := range rows {
		res.Levels[i] = &productv1.StockLevel{Sku: r.SKU, ProductId: r.ProductID, OnHand: r.Stock}
	}
	return res, nil
}

// AdjustStock implements InventoryService.
func (s *Service) AdjustStock(ctx context.Context, req *productv1.AdjustStockRequest) (*productv1.AdjustStockResponse, error) {
	level, replayed, err := s.store.adjustStock(ctx, stockChange{
		SKU:            req.GetSku(),
		Delta:          req.GetDelta(),
		Reason:         req.GetReason(),
		IdempotencyKey: req.GetIdempotencyKey(),
		RequestHash:    requestHash(req),
		At:             micros(s.now()),
		Actor:          actor(ctx),
	})
	if err != nil {
		return nil, err
	}
	if !replayed {
		s.cache.invalidate(ctx)
		// Crossing zero changes whether the product is in stock.
		if before := level.Stock - req.GetDelta(); (before > 0) != (level.Stock > 0) {
			if row, err := s.store.product(ctx, "id", level.ProductID); err == nil {
				s.sync(ctx, row)
			}
		}
	}
	return &productv1.AdjustStockResponse{Level: &productv1.StockLevel{
		Sku: level.SKU, ProductId: level.ProductID, OnHand: level.Stock,
	}}, nil
}

func requestHash(req *productv1.AdjustStockRequest) string {
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	return digest(clone)
}

// digest identifies a request body, to tell a retry (same body, same key)
// from a misuse of an idempotency key (another body).
func digest(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// GetSearchSynonyms implements ProductService.
func (s *Service) GetSearchSynonyms(ctx context.Context, _ *productv1.GetSearchSynonymsRequest) (*productv1.GetSearchSynonymsResponse, error) {
	sy, err := s.synonyms()
	if err != nil {
		return nil, err
	}
	rules, err := sy.Synonyms(ctx)
	if err != nil {
		return nil, searchError(err)
	}
	return &productv1.GetSearchSynonymsResponse{Rules: rules}, nil
}

// SetSearchSynonyms implements ProductService.
func (s *Service) SetSearchSynonyms(ctx context.Context, req *productv1.SetSearchSynonymsRequest) (*productv1.SetSearchSynonymsResponse, error) {
	sy, err := s.synonyms()
	if err != nil {
		return nil, err
	}
	parsed, err := search.ParseSynonyms(req.GetRules())
	if err != nil {
		return nil, errs.Invalidf("rules: %v", err)
	}
	rules := make([]string, len(parsed))
	for i, r := range parsed {
		rules[i] = r.String()
	}
	if err := sy.SetSynonyms(ctx, rules); err != nil {
		return nil, searchError(err)
	}
	return &productv1.SetSearchSynonymsResponse{Rules: rules}, nil
}

// synonyms is the index's synonyms, if it keeps any.
func (s *Service) synonyms() (search.Synonyms, error) {
	sy, ok := s.index.(search.Synonyms)
	if !ok {
		return nil, errs.FailedPreconditionf("this search index keeps no synonyms")
	}
	return sy, nil
}

// searchError turns an index's unavailability into a clear unavailable
// error; other failures stay internal.
func searchError(err error) error {
	if errors.Is(err, search.ErrUnavailable) {
		return &errs.Error{Kind: errs.Unavailable, Message: "search is unavailable for a moment; try again shortly", Err: err}
	}
	return fmt.Errorf("search: %w", err)
}
