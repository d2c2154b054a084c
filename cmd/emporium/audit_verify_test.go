package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/product"
)

// TestAuditVerifyCommand runs `emporium audit verify` on dev's SQLite data
// directory and on PostgreSQL: intact chains pass; an edited entry in one
// service and a deleted one in another fail it, each reported where the
// chain breaks.
func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		var flags []string
		var dbs = map[string]*bun.DB{}
		open := func(name, url string) {
			d, err := db.Open(ctx, url, db.Options{Schema: name, MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			dbs[name] = d
		}
		if engine == "sqlite" {
			dir := t.TempDir()
			flags = []string{"--data-dir", dir}
			for _, name := range []string{"product", "order", "user"} {
				open(name, "sqlite:"+filepath.Join(dir, name+".db"))
			}
		} else {
			// One database, a schema per service, as serve runs them.
			url := dbtest.URL(t, "postgres", "product", product.Migrations)
			flags = []string{"--database-url", url}
			for _, name := range []string{"product", "order", "user"} {
				open(name, url)
			}
		}
		// The user service's database exists but was never migrated: it has
		// no audit log to read. Payment has no database here at all.
		if _, err := product.Migrate(ctx, dbs["product"]); err != nil {
			t.Fatal(err)
		}
		if _, err := order.Migrate(ctx, dbs["order"]); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"product", "order"} {
			l := audit.New(dbs[name], name)
			for i := range 4 {
				if err := l.Append(ctx, &audit.Entry{Actor: "staff-1", Procedure: "/p.S/M", Request: `{}`, Code: []string{"ok", "aborted"}[i%2]}); err != nil {
					t.Fatal(err)
				}
			}
		}
		verify := func(services string) (string, error) {
			var out, errOut strings.Builder
			err := run(ctx, append([]string{"audit", "verify", "--services=" + services}, flags...), func(string) string { return "" }, &out, &errOut)
			return out.String(), err
		}

		out, err := verify("product,order,payment")
		if err != nil {
			t.Fatalf("audit verify of intact logs: %v\n%s", err, out)
		}
		for _, want := range []string{"product: 4 entries, chain intact", "order: 4 entries, chain intact", "payment: no database or schema here, nothing recorded"} {
			if !strings.Contains(out, want) {
				t.Errorf("audit verify printed %q, want a line %q", out, want)
			}
		}

		dropGuards := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
		if engine == "postgres" {
			dropGuards = []string{"DROP TRIGGER audit_log_append_only ON audit_log"}
		}
		tamper := map[string]string{
			"product": "UPDATE audit_log SET code = 'ok' WHERE seq = 2",
			"order":   "DELETE FROM audit_log WHERE seq = 3",
		}
		for name, stmt := range tamper {
			for _, s := range append(dropGuards, stmt) {
				if _, err := dbs[name].ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %s: %v", name, s, err)
				}
			}
		}
		out, err = verify("product,user,order")
		if !errors.Is(err, errChainBroken) || !strings.HasSuffix(err.Error(), ": product, user, order") {
			t.Errorf("audit verify of tampered logs: err = %v, want %v naming product, user and order", err, errChainBroken)
		}
		for _, want := range []string{
			"user: audit log unreadable (run `emporium migrate` if the database predates it): ",
			"product: 4 entries, chain BROKEN in 1 place:\n  at entry 2: the entry's content does not match its hash: edited\n",
			"order: 3 entries, chain BROKEN in 1 place:\n  at entry 4: entry 3 is missing: deleted\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("audit verify printed:\n%s\nwant:\n%s", out, want)
			}
		}
	})
}

func TestAuditVerifyUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"audit"}, {"audit", "rewrite"}} {
		var out, errOut strings.Builder
		err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
		if err == nil || !strings.Contains(errOut.String(), "Usage: emporium audit verify") {
			t.Errorf("emporium %s: err %v, stderr %q; want an error and the usage", strings.Join(args, " "), err, errOut.String())
		}
	}
}
