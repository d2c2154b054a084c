package notification

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the service's own schema migrations, for db.Migrate (and
// dbtest.Open). The service also needs River's tables: use Migrate.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")

// Migrate brings everything the service keeps in d up to date: Migrations,
// then River's tables and processed_events (jobs.Migrate). It returns the
// service migrations it applied.
func Migrate(ctx context.Context, d *bun.DB) ([]string, error) {
	applied, err := db.Migrate(ctx, d, Migrations)
	if err != nil {
		return nil, fmt.Errorf("notification migrations: %w", err)
	}
	return applied, jobs.Migrate(ctx, d)
}
