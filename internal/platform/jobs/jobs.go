// Package jobs runs durable background jobs on River, on the same database
// as the service that owns them: River on PostgreSQL in production (in the
// service's schema, through search_path) and River on SQLite in dev.
//
// It is also the transactional outbox. A service publishes a domain event
// by inserting a job in the transaction of the business write (InsertTx), so
// the event exists if and only if the write commits, and River delivers it
// at least once. Consumers make at-least-once delivery effectively-once with
// Once, which records the event in processed_events in the consumer's own
// transaction.
//
// Both engines use database/sql drivers (riverdatabasesql on pgx stdlib,
// riversqlite on modernc.org/sqlite), so River's transaction type is *sql.Tx
// on both, which is what a bun.Tx wraps.
package jobs

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are this package's own tables (processed_events), in the
// format db.Migrate reads. Migrate applies them; tests can also hand them to
// dbtest.Open.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	return sub
}

// driver picks River's driver for d's engine. Both work on d's own pool, so
// on PostgreSQL River's tables resolve through the pool's search_path (the
// service's schema). On SQLite, River's notifications stay in memory
// (wake.go).
func driver(d *bun.DB) riverdriver.Driver[*sql.Tx] {
	if db.IsPostgres(d) {
		return riverdatabasesql.New(d.DB)
	}
	return newSQLiteDriver(d.DB)
}

// Migrate brings River's tables (river_job, river_leader, river_queue, …)
// and processed_events up to date in d. On PostgreSQL they go into the
// schema of d's search_path, and an advisory lock per schema keeps replicas
// that start together from migrating twice.
func Migrate(ctx context.Context, d *bun.DB) error {
	m, err := rivermigrate.New(driver(d), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if db.IsPostgres(d) {
		// River's PostgreSQL migrations cannot share one transaction (006
		// adds an enum value and then uses it), so Migrate runs each in its
		// own; a session advisory lock, per schema, on a connection of its
		// own serialises replicas instead.
		unlock, lockErr := lockSchema(ctx, d, "river_migrate")
		if lockErr != nil {
			return fmt.Errorf("river migrations: %w", lockErr)
		}
		defer unlock()
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := db.Migrate(ctx, d, Migrations()); err != nil {
		return fmt.Errorf("jobs migrations: %w", err)
	}
	return nil
}

// MigrateWith is the Migrate of a service that keeps jobs: it applies the
// service's own migrations (reporting failures under name), then the audit
// log's tables every service has (audit.Migrate), then River's tables and
// processed_events (Migrate), and returns the service and audit
// migrations it applied.
func MigrateWith(name string, migrations fs.FS) func(context.Context, *bun.DB) ([]string, error) {
	return func(ctx context.Context, d *bun.DB) ([]string, error) {
		applied, err := db.Migrate(ctx, d, migrations)
		if err != nil {
			return nil, fmt.Errorf("%s migrations: %w", name, err)
		}
		auditApplied, err := audit.Migrate(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("%s audit log migrations: %w", name, err)
		}
		return append(applied, auditApplied...), Migrate(ctx, d)
	}
}

// lockSchema takes a PostgreSQL session advisory lock named after the
// current schema and name, on a connection it holds until unlock.
func lockSchema(ctx context.Context, d *bun.DB, name string) (unlock func(), err error) {
	conn, err := d.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const key = "hashtext(current_schema() || '.' || ?)"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")", name); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")", name)
		conn.Close()
	}, nil
}

// Config configures a Client. The zero value is an insert-only client: it
// can publish (InsertTx) but works no jobs and cannot Start.
type Config struct {
	// Workers are the job kinds this service works (river.NewWorkers and
	// river.AddWorker). Required when Queues is not empty.
	Workers *river.Workers
	// Queues maps a queue name to how many of its jobs run at once. When
	// Workers is set and Queues is empty, the default queue runs 10 at once.
	Queues map[string]int
	// Log receives River's logs; nil discards them.
	Log *slog.Logger

	// ID names this client in River's tables (leader, attempted_by);
	// River generates one when empty.
	ID string
	// FetchPollInterval is how often the client looks for new jobs. Our
	// drivers are poll-only on PostgreSQL (database/sql has no LISTEN), so
	// this bounds the latency of a job inserted by another process.
	// Default River's (1 s).
	FetchPollInterval time.Duration
	// JobTimeout cancels a job's context after this long. Default River's (1 min).
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running (its worker's
	// process died, say) before the leader puts it back to be retried. Must
	// exceed JobTimeout. Default twice JobTimeout (2 min with River's
	// default timeout), not River's hour: a job whose process was killed
	// mid-run would otherwise wait an hour (an order's payment outcome, a
	// confirmation email).
	RescueStuckJobsAfter time.Duration
	// RetryPolicy schedules retries of failed jobs. Default River's
	// exponential backoff (attempt⁴ seconds).
	RetryPolicy river.ClientRetryPolicy
	// MaxAttempts is how many times a job runs before it is discarded.
	// Default River's (25).
	MaxAttempts int
	// Periodic are jobs the elected leader inserts on a schedule
	// (river.NewPeriodicJob), so one replica runs each tick.
	Periodic []*river.PeriodicJob
	// TracerProvider makes the spans of job runs (children of the span
	// that inserted the job); nil: the global one.
	TracerProvider trace.TracerProvider
	// ParkAfter is how long a started client on SQLite may have nothing
	// to do before it parks: it stops River, and starts it again when
	// this process inserts a job or a job falls due (park.go). Default
	// DefaultParkAfter; negative: never park. A client with Periodic jobs
	// never parks; on PostgreSQL, where other processes share the queue
	// and hold its leadership, this must be zero.
	ParkAfter time.Duration
}

// rescueAfter is Config.RescueStuckJobsAfter, or its default: twice the
// job timeout. Every worker returns when its context ends at JobTimeout, so
// a job still running as long again after it has no live worker (its
// process died); consumers are idempotent (Once), so the rare slow one that
// is run twice does its work once.
func rescueAfter(cfg Config) time.Duration {
	switch {
	case cfg.RescueStuckJobsAfter > 0:
		return cfg.RescueStuckJobsAfter
	case cfg.JobTimeout < 0: // no timeout: River's default
		return 0
	case cfg.JobTimeout > 0:
		return 2 * cfg.JobTimeout
	}
	return 2 * river.JobTimeoutDefault
}

// Client publishes and works one service's jobs.
type Client struct {
	rc   *river.Client[*sql.Tx]
	park *parker // nil: River runs from Start to Stop
}

// New makes a client for the service whose database is d (already migrated
// with Migrate). It works nothing until Start.
func New(d *bun.DB, cfg Config) (*Client, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rcfg := &river.Config{
		ID:                   cfg.ID,
		Logger:               log,
		Workers:              cfg.Workers,
		FetchPollInterval:    cfg.FetchPollInterval,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: rescueAfter(cfg),
		RetryPolicy:          cfg.RetryPolicy,
		MaxAttempts:          cfg.MaxAttempts,
		PeriodicJobs:         cfg.Periodic,
		Middleware:           middleware(cfg.TracerProvider),
	}
	parkAfter, err := parkAfter(d, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < river.FetchCooldownDefault {
		// River requires FetchCooldown <= FetchPollInterval.
		rcfg.FetchCooldown = cfg.FetchPollInterval
	}
	queues := cfg.Queues
	if cfg.Workers != nil && len(queues) == 0 {
		queues = map[string]int{river.QueueDefault: 10}
	}
	if len(queues) > 0 {
		if cfg.Workers == nil {
			return nil, errors.New("jobs: Config.Queues needs Config.Workers")
		}
		rcfg.Queues = make(map[string]river.QueueConfig, len(queues))
		for name, n := range queues {
			if n < 1 {
				return nil, fmt.Errorf("jobs: queue %q: concurrency %d, want at least 1", name, n)
			}
			rcfg.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
	}
	var park *parker
	if parkAfter > 0 && len(rcfg.Queues) > 0 {
		names := make([]string, 0, len(rcfg.Queues))
		for name := range rcfg.Queues {
			names = append(names, name)
		}
		park = newParker(d, names, parkAfter, cfg.FetchPollInterval, log)
		rcfg.Middleware = append(rcfg.Middleware, &park.act)
	}
	rc, err := river.NewClient(driver(d), rcfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if park != nil {
		park.rc = rc
	}
	return &Client{rc: rc, park: park}, nil
}

// parkAfter is Config.ParkAfter with its default, or 0 for a client that
// never parks.
func parkAfter(d *bun.DB, cfg Config) (time.Duration, error) {
	switch {
	case cfg.ParkAfter < 0 || len(cfg.Periodic) > 0:
		return 0, nil
	case db.IsPostgres(d):
		if cfg.ParkAfter > 0 {
			return 0, errors.New("jobs: Config.ParkAfter is for SQLite, a database only this process uses")
		}
		return 0, nil
	case cfg.ParkAfter > 0:
		return cfg.ParkAfter, nil
	}
	return DefaultParkAfter, nil
}

// Start begins working jobs in the background until Stop, StopAndCancel or
// the end of ctx (which, like StopAndCancel, also cancels running jobs).
// On SQLite the client parks while it has nothing to do (Config.ParkAfter).
func (c *Client) Start(ctx context.Context) error {
	if c.park != nil {
		return c.park.start(ctx)
	}
	return c.rc.Start(ctx)
}

// Stop stops fetching jobs and waits for running ones to finish, or for ctx
// to end.
func (c *Client) Stop(ctx context.Context) error {
	c.halt()
	return c.rc.Stop(ctx)
}

// StopAndCancel stops fetching jobs, cancels the contexts of running ones
// and waits for them to return, or for ctx to end.
func (c *Client) StopAndCancel(ctx context.Context) error {
	c.halt()
	return c.rc.StopAndCancel(ctx)
}

// halt stops the parker, if any, from starting or stopping River again.
func (c *Client) halt() {
	if c.park != nil {
		c.park.halt()
	}
}

// Parked reports whether the client is parked: started, but with River
// stopped until a job is inserted or falls due (Config.ParkAfter).
func (c *Client) Parked() bool { return c.park != nil && c.park.parked.Load() }

// inserted wakes a parked client after an insert by this process.
func (c *Client) inserted() {
	if c.park != nil {
		c.park.inserted()
	}
}

// InsertTx publishes an event: it inserts a job in the caller's
// transaction, so the job exists if and only if tx commits — the
// transactional outbox. Once committed, the job is delivered at least once,
// by whichever process works its queue. On SQLite (one connection) do all of
// the transaction's work through tx, never through the *bun.DB, or it waits
// for itself.
func (c *Client) InsertTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := c.InsertTxResult(ctx, tx, args, opts)
	return err
}

// InsertTxResult is InsertTx returning the inserted job (or, for a unique
// job that already existed, that job and UniqueSkippedAsDuplicate).
func (c *Client) InsertTxResult(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := c.rc.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	c.inserted()
	return res, nil
}

// Insert enqueues a job outside any transaction (not an outbox: use
// InsertTx beside a business write).
func (c *Client) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := c.rc.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	c.inserted()
	return res, nil
}

// River is the underlying River client, for what this package does not wrap
// (JobGet, JobList, Subscribe, queue control).
func (c *Client) River() *river.Client[*sql.Tx] { return c.rc }

// Once records that consumer handles eventID, in the consumer's transaction
// tx, and reports whether this is the first time. A consumer does its side
// effects in tx only when first is true; a redelivered or retried event then
// changes nothing, and if tx rolls back the record goes with it, so the
// event is handled again next time. eventID must identify the event, not the
// delivery: an id the publisher put in the job's args, or the job's id.
func Once(ctx context.Context, tx bun.Tx, consumer, eventID string) (first bool, err error) {
	if consumer == "" || eventID == "" {
		return false, errors.New("jobs: Once needs a consumer and an event id")
	}
	res, err := tx.ExecContext(ctx,
		"INSERT INTO processed_events (consumer, event_id, at) VALUES (?, ?, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING",
		consumer, eventID)
	if err != nil {
		return false, fmt.Errorf("jobs: record event %s for %s: %w", eventID, consumer, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("jobs: record event %s for %s: %w", eventID, consumer, err)
	}
	return n == 1, nil
}
