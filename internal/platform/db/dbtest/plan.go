package dbtest

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
)

// Plan is the plan d would run query with, a line per step: SQLite's
// EXPLAIN QUERY PLAN details, or PostgreSQL's EXPLAIN with sequential and
// bitmap scans forbidden. A test's tables are small, and PostgreSQL reads a
// small table whole by any plan; forbidding those scans shows how an index
// serves the query, as it would on a large table.
func Plan(t testing.TB, d *bun.DB, query string) []string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		explain := "EXPLAIN QUERY PLAN "
		if db.IsPostgres(d) {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"); err != nil {
				return err
			}
			explain = "EXPLAIN "
		}
		rows, err := tx.QueryContext(ctx, explain+query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if db.IsPostgres(d) {
				err = rows.Scan(&line)
			} else {
				var id, parent, unused int
				err = rows.Scan(&id, &parent, &unused, &line)
			}
			if err != nil {
				return err
			}
			plan = append(plan, strings.TrimSpace(line))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("plan of %s: %v", query, err)
	}
	return plan
}
