package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"slices"
	"strings"

	"github.com/uptrace/bun"
)

// Migrate applies, in name order, the migrations in fsys that db has not
// seen yet, each in its own transaction, and records them in
// schema_migrations. A migration is NAME.sql, or NAME.pg.sql and
// NAME.sqlite.sql where the dialects differ. Statements are separated by a
// semicolon at the end of a line, except inside a $$-quoted body (a
// PostgreSQL function's), which ends at the line closing the quote. On PostgreSQL an advisory lock keeps
// replicas that start together from migrating twice.
func Migrate(ctx context.Context, db *bun.DB, fsys fs.FS) (applied []string, err error) {
	migrations, err := readMigrations(fsys, IsPostgres(db))
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	for _, m := range migrations {
		done, err := applyOne(ctx, db, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.version, err)
		}
		if done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

type migration struct {
	version    string
	statements []string
}

func applyOne(ctx context.Context, db *bun.DB, m migration) (bool, error) {
	applied := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if IsPostgres(db) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", lockKey("schema_migrations")); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, stmt := range m.statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%w\n%s", err, stmt)
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (?)", m.version)
		applied = err == nil
		return err
	})
	return applied, err
}

func readMigrations(fsys fs.FS, postgres bool) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	own, other := ".sqlite.sql", ".pg.sql"
	if postgres {
		own, other = other, own
	}
	byVersion := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir(), !strings.HasSuffix(name, ".sql"), strings.HasSuffix(name, other):
			continue
		case strings.HasSuffix(name, own):
			byVersion[strings.TrimSuffix(name, own)] = name
		default:
			v := strings.TrimSuffix(name, ".sql")
			if _, ok := byVersion[v]; !ok {
				byVersion[v] = name
			}
		}
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	out := make([]migration, 0, len(versions))
	for _, v := range versions {
		body, err := fs.ReadFile(fsys, byVersion[v])
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, statements: splitStatements(string(body))})
	}
	return out, nil
}

func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	quoted := false // inside $$ … $$
	for _, line := range strings.Split(body, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.Count(line, "$$")%2 == 1 {
			quoted = !quoted
		}
		if !quoted && strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64() >> 1)
}
