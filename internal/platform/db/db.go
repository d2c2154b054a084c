// Package db opens a service's relational store by URL, SQLite or
// PostgreSQL, and applies its migrations. The same bun models run on both.
//
//	sqlite:.emporium/product.db            a file (created if missing)
//	sqlite::memory:                        a private in-memory database
//	postgres://user@host:5432/db?sslmode=disable
//
// On PostgreSQL each service lives in its own schema (search_path), so several
// services can share one database without seeing each other's tables.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune Open.
type Options struct {
	// Schema is the PostgreSQL schema for the service; ignored on SQLite.
	Schema string
	// MaxOpenConns caps the pool on PostgreSQL; 0: DefaultMaxConns.
	MaxOpenConns int
	// TracerProvider makes the spans of statements run inside a traced
	// request or job; nil: the global one.
	TracerProvider trace.TracerProvider
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string, opt Options) (*bun.DB, error) {
	var (
		db  *bun.DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		db, err = openSQLite(strings.TrimPrefix(url, "sqlite:"), opt)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openPostgres(ctx, url, opt)
	default:
		return nil, fmt.Errorf("database url %q: want sqlite:PATH or postgres://…", redact(url))
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", redact(url), err)
	}
	return db, nil
}

func openSQLite(path string, opt Options) (*bun.DB, error) {
	memory := path == ":memory:"
	dsn := "file::memory:?_pragma=foreign_keys(1)"
	if !memory {
		path = strings.TrimPrefix(path, "//")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		// WAL lets another process (emporium seed, a backup) read beside the
		// writer; immediate transactions take the write lock up front, so a
		// second process queues on busy_timeout instead of failing with
		// SQLITE_BUSY half-way through a transaction.
		dsn = "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	}
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite runs one writer at a time anyway, and queueing
	// in Go's pool costs microseconds where SQLite's busy handler sleeps for
	// milliseconds under contention. Reads are fast enough to share it. (For
	// :memory: every connection would also be a database of its own.)
	sqldb.SetMaxOpenConns(1)
	sqldb.SetConnMaxLifetime(0)
	return bun.NewDB(sqldb, sqlitedialect.New()).WithQueryHook(newSQLiteSpans(opt.TracerProvider)), nil
}

func openPostgres(ctx context.Context, url string, opt Options) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if opt.Schema != "" {
		if err := createSchema(ctx, cfg, opt.Schema); err != nil {
			return nil, err
		}
		cfg.RuntimeParams["search_path"] = pgx.Identifier{opt.Schema}.Sanitize()
	}
	// bun writes arguments into the SQL text, so nearly every statement is
	// new: pgx's default (prepare and cache each one) would add a round
	// trip and a server-side plan to every query for nothing. Exec mode
	// sends each statement once, unnamed. Statements that come with
	// arguments (River's queue) keep their plans instead (cachingConnector).
	// A default_query_exec_mode in the URL wins for every statement: =exec
	// behind a PgBouncer in transaction mode older than 1.21, which cannot
	// keep named prepared statements.
	cfg.Tracer = pgTracer(opt.Schema, opt.TracerProvider)
	var connector driver.Connector
	if strings.Contains(url, "default_query_exec_mode") {
		connector = stdlib.GetConnector(*cfg)
	} else {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
		connector = cachingConnector{stdlib.GetConnector(*cfg)}
	}
	sqldb := sql.OpenDB(connector)
	n := opt.MaxOpenConns
	if n <= 0 {
		n = DefaultMaxConns()
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

func createSchema(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.Host, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	if err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// DefaultMaxConns is the pool of a service's PostgreSQL connections when
// none is set: as many as the cores the process runs on (GOMAXPROCS), and
// at least 4 (pgxpool's own default). A connection beyond that only adds a
// backend competing for the same cores: with 20 per service, the
// single-host layout (five pools) ran some 65 backends at 64 shoppers on 2
// cores and completed about a sixth fewer checkouts than with 4 (see
// docs/benchmarks.md), and six such pools would pass PostgreSQL's default
// max_connections (100). Callers beyond the pool wait in database/sql
// until a connection comes back (or their context ends).
func DefaultMaxConns() int { return max(4, runtime.GOMAXPROCS(0)) }

// IsPostgres reports whether db speaks PostgreSQL.
func IsPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

// redact hides a password in a URL for messages.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 {
		return url
	}
	userinfo := url[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return url[:scheme+3] + userinfo[:i] + ":***" + url[at:]
	}
	return url
}
