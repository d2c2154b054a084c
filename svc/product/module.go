package product

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/svc/product/search"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
	"github.com/emporiumhq/emporium/svc/product/search/elastic"
)

// Module is the product service's wiring: its flags, its database and
// search index, its stock-expiry loop and its routes.
type Module struct {
	module.Base[Deps, *Service]

	cacheTTL     time.Duration
	searchPath   string
	searchURL    string
	searchAPIKey string
	searchCAFile string
	searchIndex  string
	// analyticsStore is --search-analytics: auto, database or elasticsearch.
	analyticsStore string
	// analyticsRetention is how long search analytics are kept; 0 forever.
	analyticsRetention time.Duration
	// mediaDir is the blob store of uploaded product images.
	mediaDir string
	// ForegroundCatchUp leaves bringing the Bleve index in line with the
	// database (Service.CatchUp) to the caller: dev does it before it
	// serves, with progress on the terminal. Otherwise the module does it in
	// the background when it starts.
	ForegroundCatchUp bool
	// Media, when set, serves the rest of the shop's media under /media/
	// (dev serves the demo catalog's images here); uploaded images are
	// always served under /media/uploads/ from --media-dir.
	Media http.Handler
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "product" }

// Routes implements module.Module.
func (*Module) Routes() module.Routes {
	return module.Routes{Services: ServiceNames, Paths: []string{MediaPath}}
}

// expiryInterval is how often stock held by abandoned checkouts is released.
const expiryInterval = 30 * time.Second

// MediaPath is where the shop's product images are served.
const MediaPath = "/media/"

// Peers implements module.Module: the catalog calls nobody.
func (*Module) Peers() []module.Peer { return nil }

// Flags implements module.Module.
func (m *Module) Flags(fs *flag.FlagSet) {
	fs.DurationVar(&m.cacheTTL, "cache-ttl", 2*time.Second,
		"product: keep catalog reads this long; writes through this process show at once, through other replicas after at most this, or at once with --redis-url (0 = off)")
	fs.StringVar(&m.searchPath, "search-path", "",
		"product: directory of the on-disk search index (one process may open it); empty: search/ in the data directory")
	fs.StringVar(&m.searchURL, "search-url", "",
		"product: Elasticsearch 8 for search, shared by every replica, e.g. https://user:pass@es:9200 (several nodes: comma-separated); empty: the Bleve index at --search-path")
	fs.StringVar(&m.searchAPIKey, "search-api-key", "",
		"product: Elasticsearch API key (base64 id:key) instead of a user and password in --search-url")
	fs.StringVar(&m.searchCAFile, "search-ca-file", "",
		"product: PEM file of the certificate authorities that signed Elasticsearch's certificate; empty: the system's")
	fs.StringVar(&m.searchIndex, "search-index", elastic.DefaultName,
		"product: with --search-url, the name of the read alias; the write alias, index template, indexes and synonyms set are named after it")
	fs.StringVar(&m.analyticsStore, "search-analytics", "auto",
		"product: where search analytics are kept: auto (Elasticsearch with --search-url, else the service's database), database or elasticsearch")
	fs.StringVar(&m.mediaDir, "media-dir", "",
		"product: where uploaded product images are kept (served under /media/uploads/): a directory or s3://BUCKET/PREFIX?region=…; empty: media/ in the data directory")
	fs.DurationVar(&m.analyticsRetention, "search-analytics-retention", DefaultAnalyticsRetention,
		"product: keep search analytics (queries, clicks, purchases) this long, e.g. 2160h for 90 days (0 = forever)")
}

// elasticConfig is the Elasticsearch cluster the flags name.
func (m *Module) elasticConfig(env *module.Env) (elastic.Config, error) {
	cfg := elastic.Config{URL: m.searchURL, APIKey: m.searchAPIKey, Name: m.searchIndex, Log: env.Log}
	if m.searchCAFile != "" {
		pem, err := os.ReadFile(m.searchCAFile)
		if err != nil {
			return cfg, fmt.Errorf("--search-ca-file: %w", err)
		}
		cfg.CACert = pem
	}
	return cfg, nil
}

// openIndex opens the search index: Elasticsearch when --search-url is set,
// else the Bleve index on disk.
func (m *Module) openIndex(ctx context.Context, env *module.Env) (search.Index, error) {
	if m.searchURL != "" {
		cfg, err := m.elasticConfig(env)
		if err != nil {
			return nil, err
		}
		return elastic.Open(ctx, cfg)
	}
	path := m.searchPath
	if path == "" {
		path = filepath.Join(env.DataDir, "search")
	}
	path = filepath.Join(path, "products.bleve")
	idx, replaced, err := bleve.OpenCurrent(path)
	if replaced {
		env.Log.WarnContext(ctx, "the search index was built by another version of Emporium with another mapping; replaced it with an empty one, to be rebuilt from the database", "path", path)
	}
	return idx, err
}

// openAnalytics opens the search analytics store --search-analytics names:
// nil for the service's database.
func (m *Module) openAnalytics(ctx context.Context, env *module.Env) (*elastic.Analytics, error) {
	switch m.analyticsStore {
	case "database":
		return nil, nil
	case "elasticsearch":
		if m.searchURL == "" {
			return nil, errors.New("--search-analytics elasticsearch needs --search-url")
		}
	case "", "auto":
		if m.searchURL == "" {
			return nil, nil
		}
	default:
		return nil, fmt.Errorf("--search-analytics %q: want auto, database or elasticsearch", m.analyticsStore)
	}
	cfg, err := m.elasticConfig(env)
	if err != nil {
		return nil, err
	}
	return elastic.OpenAnalytics(ctx, cfg)
}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// Open implements module.Module.
func (m *Module) Open(ctx context.Context, env *module.Env) (*module.Running, error) {
	idx, err := m.openIndex(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("open search index: %w", err)
	}
	dir := m.mediaDir
	if dir == "" {
		dir = filepath.Join(env.DataDir, "media")
	}
	media, err := blob.Open(dir, env.Getenv)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("--media-dir: %w", err)
	}
	stats, err := m.openAnalytics(ctx, env)
	if err != nil {
		idx.Close()
		media.Close()
		return nil, fmt.Errorf("open search analytics: %w", err)
	}
	closeShared := func() {}
	closeAll := func() {
		closeShared()
		idx.Close()
		media.Close()
		if stats != nil {
			stats.Close()
		}
	}
	deps := Deps{DB: env.DB, Index: idx, Currency: env.Currency, Log: env.Log, CacheTTL: m.cacheTTL, JobPoll: env.JobPoll,
		AnalyticsRetention: m.analyticsRetention, Media: media}
	if stats != nil {
		deps.Analytics = stats
	}
	if m.analyticsRetention == 0 {
		deps.AnalyticsRetention = -1 // forever
	}
	if env.RedisURL != "" {
		shared, err := OpenSharedCache(ctx, env.RedisURL, GenerationKey, env.Log)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("catalog cache: %w", err)
		}
		deps.SharedCache, closeShared = shared, shared.Close
	}
	svc, err := m.Make(deps, New)
	if err != nil {
		closeAll()
		return nil, err
	}
	stop := func() {}
	return &module.Running{
		Handler: module.Mux(func(mux *http.ServeMux) {
			svc.Mount(mux, env.Handler...)
			mux.Handle(UploadsPath, svc.MediaHandler())
			if m.Media != nil {
				mux.Handle(MediaPath, m.Media)
			}
		}),
		// The outbox carries index updates; stock held by abandoned
		// checkouts comes back every expiryInterval.
		Start: func(ctx context.Context) error {
			if err := svc.Start(ctx); err != nil {
				return err
			}
			stopExpiry := jobs.Every(ctx, expiryInterval, svc.expirePass)
			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			if m.searchURL == "" && !m.ForegroundCatchUp {
				// The embedded index belongs to this process alone: an index
				// removed or replaced is rebuilt here. (Elasticsearch is shared
				// by every replica and rebuilt by `emporium reindex`.)
				wg.Go(func() { catchUp(ctx, svc, env.Log) })
			}
			stop = func() { cancel(); wg.Wait(); stopExpiry() }
			return nil
		},
		Stop:  func(ctx context.Context) error { stop(); return svc.Stop(ctx) },
		Close: closeAll,
	}, nil
}

// catchUp rebuilds the search index in the background when it is not in
// line with the database, logging its progress every tenth.
func catchUp(ctx context.Context, svc *Service, log *slog.Logger) {
	started := time.Now()
	last := -1
	err := svc.CatchUp(ctx, func(behind int64) {
		log.WarnContext(ctx, "the search index is not in line with the database; rebuilding it in the background, searches find less until it ends", "behind", behind)
	}, func(done, total int) {
		if tenth := done * 10 / max(total, 1); tenth != last {
			last = tenth
			log.InfoContext(ctx, "rebuilding the search index", "done", done, "total", total)
		}
	})
	switch {
	case err != nil && ctx.Err() == nil:
		log.ErrorContext(ctx, "rebuilding the search index failed; run emporium reindex", "err", err)
	case err == nil && last >= 0:
		log.InfoContext(ctx, "search index rebuilt", "took", time.Since(started).Round(time.Millisecond))
	}
}
