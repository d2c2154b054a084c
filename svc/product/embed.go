package product

import (
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the service's schema migrations, for db.Migrate.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")
