package user

import (
	"bufio"
	"embed"
	"io/fs"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the service's own schema migrations, for db.Migrate (and
// dbtest.Open). They are enough without Notifications; with it, the
// service's outbox also needs River's tables: use Migrate, in service.go.
var Migrations, _ = fs.Sub(migrationFiles, "migrations")

//go:embed breached.txt
var breachedList string

// breached is the bundled list of breached passwords, lower-cased. A real
// deployment may add a k-anonymity range check (Have I Been Pwned) on top.
var breached = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(breachedList))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}()
