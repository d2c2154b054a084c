package order

import (
	"embed"
	"io/fs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the service's own schema migrations, for db.Migrate;
// Migrate also applies the jobs package's (River and the outbox).
var Migrations, _ = fs.Sub(migrationFiles, "migrations")
