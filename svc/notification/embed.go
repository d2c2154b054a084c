package notification

import (
	"embed"
	"io/fs"

	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the service's own schema migrations, for db.Migrate (and
// dbtest.Open). The service also needs River's tables and processed_events:
// use Migrate.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")

// Migrate brings everything the service keeps in a database up to date:
// Migrations, then River's tables and processed_events. It returns the
// service migrations it applied.
var Migrate = jobs.MigrateWith("notification", Migrations)
