package sqlstore_test

import (
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/analytics"
	"github.com/emporiumhq/emporium/svc/product/analytics/analyticstest"
	"github.com/emporiumhq/emporium/svc/product/analytics/sqlstore"
)

// TestContract holds the SQL adapter to the port's contract suite on SQLite
// and PostgreSQL, in a database migrated with the product service's
// migrations.
func TestContract(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		analyticstest.Run(t, func(t *testing.T) analytics.Store {
			return sqlstore.New(dbtest.Open(t, engine, "product", product.Migrations))
		})
	})
}
