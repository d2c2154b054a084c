package payment

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

// Migrate brings everything the service keeps in d up to date: River's
// tables and processed_events (jobs.Migrate), then Migrations.
func Migrate(ctx context.Context, d *bun.DB) error {
	if err := jobs.Migrate(ctx, d); err != nil {
		return err
	}
	if _, err := db.Migrate(ctx, d, Migrations); err != nil {
		return fmt.Errorf("payment migrations: %w", err)
	}
	return nil
}
