package product

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/analytics/sqlstore"
)

// DefaultAnalyticsRetention is how long search analytics are kept unless
// Deps.AnalyticsRetention says otherwise.
const DefaultAnalyticsRetention = 90 * 24 * time.Hour

// initAnalytics sets up search analytics: the store (the service's own
// database unless deps name another) and the recorder that buffers events
// for it.
func (s *Service) initAnalytics(d Deps) {
	store := d.Analytics
	if store == nil {
		store = sqlstore.New(d.DB)
	}
	retention := d.AnalyticsRetention
	if retention == 0 {
		retention = DefaultAnalyticsRetention
	}
	s.searchStats = store
	s.recorder = analytics.NewRecorder(store, analytics.RecorderConfig{
		Retention: max(retention, 0), Now: s.now, Log: s.log,
	})
	s.salt = &sessionSalt{db: d.DB}
}

// FlushAnalytics waits until the search analytics recorded so far are
// written (tests, and shutdown through Stop).
func (s *Service) FlushAnalytics(ctx context.Context) { s.recorder.Flush(ctx) }

// AnalyticsDropped is how many search analytics events a full buffer
// dropped since the service started.
func (s *Service) AnalyticsDropped() int64 { return s.recorder.Dropped() }

// recordSearch records a search answered with hits results after latency.
// It never blocks or fails the search.
func (s *Service) recordSearch(ctx context.Context, req *productv1.SearchProductsRequest, searchID string, hits int64, latency time.Duration) {
	s.recorder.Record(analytics.Event{
		Kind:     analytics.Search,
		SearchID: searchID,
		At:       s.now(),
		Query:    analytics.Normalize(req.GetQuery()),
		Filters:  searchFilters(req),
		Hits:     hits,
		Latency:  latency,
		Session:  s.sessionKey(ctx, req.GetSessionId()),
	})
}

// searchFilters is a search's filters as text, e.g. "brand=Northwind
// category=jackets".
func searchFilters(req *productv1.SearchProductsRequest) string {
	var parts []string
	for _, f := range [][2]string{{"brand", req.GetBrand()}, {"category", req.GetCategory()}, {"price", req.GetPriceBand()}} {
		if f[1] != "" {
			parts = append(parts, f[0]+"="+f[1])
		}
	}
	return strings.Join(parts, " ")
}

// recordAction records what a shopper did with a product found by search
// searchID; nothing when searchID is empty.
func (s *Service) recordAction(kind analytics.Kind, searchID, productID string) {
	if searchID == "" || productID == "" {
		return
	}
	s.recorder.Record(analytics.Event{Kind: kind, SearchID: searchID, ProductID: productID, At: s.now()})
}

// recordPurchases records a purchase for every item of a committed
// reservation that carries a search id. Commits are idempotent, and so are
// the events: the store counts a (search, product) purchase once.
func (s *Service) recordPurchases(ctx context.Context, r *reservationRow) {
	var skus, searchIDs []string
	for _, it := range r.Items {
		if it.SearchID != "" {
			skus = append(skus, it.SKU)
			searchIDs = append(searchIDs, it.SearchID)
		}
	}
	if len(skus) == 0 {
		return
	}
	rows, err := s.store.variantsBySKU(ctx, skus)
	if err != nil {
		s.log.WarnContext(ctx, "search analytics: purchases not recorded", "reservation_id", r.ID, "err", err)
		return
	}
	product := make(map[string]string, len(rows))
	for _, v := range rows {
		product[v.SKU] = v.ProductID
	}
	for i, sku := range skus {
		s.recordAction(analytics.Purchase, searchIDs[i], product[sku])
	}
}

// GetProduct implements ProductService; with a search_id, it records a
// click of that search.
func (s *Service) GetProduct(ctx context.Context, req *productv1.GetProductRequest) (*productv1.GetProductResponse, error) {
	res, err := s.getProduct(ctx, req)
	if err == nil {
		s.recordAction(analytics.Click, req.GetSearchId(), res.GetProduct().GetId())
	}
	return res, err
}

// LookupVariants implements ProductService; with a search_id (an order
// service adding the SKUs to a cart from a search), it records an
// add-to-cart of that search for each product found.
func (s *Service) LookupVariants(ctx context.Context, req *productv1.LookupVariantsRequest) (*productv1.LookupVariantsResponse, error) {
	res, err := s.lookupVariants(ctx, req)
	if err == nil && req.GetSearchId() != "" {
		var seen []string
		for _, v := range res.GetVariants() {
			if !slices.Contains(seen, v.GetProductId()) {
				seen = append(seen, v.GetProductId())
				s.recordAction(analytics.AddToCart, req.GetSearchId(), v.GetProductId())
			}
		}
	}
	return res, err
}

// sessionKey is the anonymous session key of a search: a salted hash of the
// signed-in caller's subject, else of the client's session id, else empty.
func (s *Service) sessionKey(ctx context.Context, clientSession string) string {
	identity := ""
	if p := authz.FromContext(ctx); p != nil && p.Subject != "" {
		identity = "subject:" + p.Subject
	} else if clientSession != "" {
		identity = "client:" + clientSession
	}
	if identity == "" {
		return ""
	}
	salt, err := s.salt.get(ctx)
	if err != nil {
		// Without the salt, record no session rather than a weak hash.
		s.log.WarnContext(ctx, "search analytics: no session salt", "err", err)
		return ""
	}
	return analytics.SessionKey(salt, identity)
}

// sessionSalt is the deployment's secret salt for session keys, kept in
// search_settings so every replica hashes alike. The first replica to need
// it makes it.
type sessionSalt struct {
	db    *bun.DB
	mu    sync.Mutex
	value string
}

func (ss *sessionSalt) get(ctx context.Context) (string, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.value != "" {
		return ss.value, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if _, err := ss.db.NewRaw("INSERT INTO search_settings (name, value) VALUES ('session_salt', ?) ON CONFLICT DO NOTHING",
		hex.EncodeToString(b)).Exec(ctx); err != nil {
		return "", fmt.Errorf("session salt: %w", err)
	}
	var v string
	if err := ss.db.NewRaw("SELECT value FROM search_settings WHERE name = 'session_salt'").Scan(ctx, &v); err != nil {
		return "", fmt.Errorf("session salt: %w", err)
	}
	ss.value = v
	return v, nil
}
