// Package dbtest gives tests a fresh, migrated database of each engine:
// a temp-file SQLite database, and on PostgreSQL a database cloned from a
// migrated template (one template per migration set, made once, so a test
// costs a CREATE DATABASE, not a migration run).
//
// PostgreSQL comes from EMPORIUM_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it cannot
// be reached, PostgreSQL tests are skipped on a laptop but fail when CI=true:
// CI must test both engines.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
)

// Engines are the database engines every store test runs on.
var Engines = []string{"sqlite", "postgres"}

// ForEachEngine runs f as a parallel subtest on every engine.
func ForEachEngine(t *testing.T, f func(t *testing.T, engine string)) {
	t.Helper()
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, engine)
		})
	}
}

// DefaultPostgresURL is used when EMPORIUM_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Open returns a fresh database of engine with migrations applied, closed
// and dropped when the test ends.
func Open(t testing.TB, engine, schema string, migrations fs.FS) *bun.DB {
	t.Helper()
	switch engine {
	case "sqlite":
		return openSQLite(t, migrations)
	case "postgres":
		return openPostgres(t, schema, migrations)
	}
	t.Fatalf("dbtest: unknown engine %q", engine)
	return nil
}

// URL returns a database URL of engine with migrations applied, for tests
// that start a whole process. The database is dropped when the test ends.
func URL(t testing.TB, engine, schema string, migrations fs.FS) string {
	t.Helper()
	switch engine {
	case "sqlite":
		u := "sqlite:" + filepath.Join(t.TempDir(), "test.db")
		d := mustOpen(t, u, schema)
		if _, err := db.Migrate(context.Background(), d, migrations); err != nil {
			t.Fatalf("dbtest: migrate: %v", err)
		}
		d.Close()
		return u
	case "postgres":
		return clonePostgres(t, schema, migrations)
	}
	t.Fatalf("dbtest: unknown engine %q", engine)
	return ""
}

func openSQLite(t testing.TB, migrations fs.FS) *bun.DB {
	d := mustOpen(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"), "")
	t.Cleanup(func() { d.Close() })
	if _, err := db.Migrate(context.Background(), d, migrations); err != nil {
		t.Fatalf("dbtest: migrate: %v", err)
	}
	return d
}

// mustOpen keeps pools small: many tests run at once on one PostgreSQL
// (max_connections is 100 by default).
func mustOpen(t testing.TB, u, schema string) *bun.DB {
	t.Helper()
	d, err := db.Open(context.Background(), u, db.Options{Schema: schema, MaxOpenConns: 5})
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", u, err)
	}
	return d
}

func openPostgres(t testing.TB, schema string, migrations fs.FS) *bun.DB {
	d := mustOpen(t, clonePostgres(t, schema, migrations), schema)
	t.Cleanup(func() { d.Close() })
	return d
}

// PostgresURL is the server tests use, skipping (or, in CI, failing) the
// test when it does not answer.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EMPORIUM_TEST_DATABASE_URL")
	if u == "" {
		u = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dbtest: PostgreSQL is required in CI but %s does not answer: %v", u, err)
		}
		t.Skipf("dbtest: PostgreSQL not reachable at %s (set EMPORIUM_TEST_DATABASE_URL): %v", u, err)
	}
	conn.Close(ctx)
	return u
}

var templates sync.Map // template name → *sync.Once-guarded result

type templateResult struct {
	once sync.Once
	err  error
}

func clonePostgres(t testing.TB, schema string, migrations fs.FS) string {
	t.Helper()
	base := PostgresURL(t)
	tmpl, err := ensureTemplate(base, schema, migrations)
	if err != nil {
		t.Fatalf("dbtest: template: %v", err)
	}
	name := "emporium_test_" + randomHex(6)
	ctx := context.Background()
	if err := adminExec(ctx, base, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(context.Background(), base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// ensureTemplate makes (once per process, and safely across processes) a
// database with migrations applied to clone from. Its name carries a hash of
// the migrations, so changed migrations get a new template.
func ensureTemplate(base, schema string, migrations fs.FS) (string, error) {
	h := fnv.New64a()
	fmt.Fprint(h, schema)
	err := fs.WalkDir(migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations, path)
		fmt.Fprint(h, path)
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("emporium_tmpl_%x", h.Sum64())
	v, _ := templates.LoadOrStore(name, &templateResult{})
	r := v.(*templateResult)
	r.once.Do(func() { r.err = makeTemplate(base, name, schema, migrations) })
	return name, r.err
}

func makeTemplate(base, name, schema string, migrations fs.FS) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// One process at a time builds templates; others wait, then find it.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7173)"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7173)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Build under a temporary name and rename, so a crash never leaves a
	// half-migrated template behind under the real name.
	building := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	d, err := db.Open(ctx, withDatabase(base, building), db.Options{Schema: schema})
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx, d, migrations)
	d.Close()
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	return err
}

func adminExec(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
