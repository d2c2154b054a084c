package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/user"
)

// openDB opens one service's database (its own schema on PostgreSQL),
// migrating it first when migrate is set.
func openDB(ctx context.Context, log *slog.Logger, url, schema string, migrations migrator, migrate bool) (*bun.DB, error) {
	d, err := db.Open(ctx, url, db.Options{Schema: schema})
	if err != nil {
		return nil, err
	}
	if migrate {
		applied, err := migrations(ctx, d)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("migrate %s: %w", schema, err)
		}
		if len(applied) > 0 {
			log.Info("migrated database", "service", schema, "applied", applied)
		}
	}
	return d, nil
}

// migrator brings a service's database up to date and names the migrations
// it applied: db.Migrate over a service's SQL files (sqlFiles), or a
// service's own Migrate when it keeps more (River's tables).
type migrator func(context.Context, *bun.DB) ([]string, error)

func sqlFiles(migrations fs.FS) migrator {
	return func(ctx context.Context, d *bun.DB) ([]string, error) { return db.Migrate(ctx, d, migrations) }
}

// adminFlags are the flags of the one-shot admin commands; the defaults
// point at the data of `emporium dev`.
type adminFlags struct {
	common
	productDB, userDB, searchPath string
	orderDB, paymentDB, shipDB    string // migrate only
	notificationDB                string // migrate only
}

func newAdminFlags(name string, stderr io.Writer) (*flag.FlagSet, *adminFlags) {
	fs := newFlagSet(name, stderr)
	a := new(adminFlags)
	a.register(fs)
	fs.StringVar(&a.productDB, "database-url", "sqlite:.emporium/product.db", "product database: postgres://… or sqlite:PATH")
	fs.StringVar(&a.userDB, "user-database-url", "sqlite:.emporium/user.db", "user database: postgres://… (may be the same as --database-url) or sqlite:PATH")
	fs.StringVar(&a.searchPath, "search-path", ".emporium/search", "directory of the on-disk search index")
	return fs, a
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("migrate", stderr)
	flags.StringVar(&a.orderDB, "order-database-url", "sqlite:.emporium/order.db", "order database: postgres://… or sqlite:PATH")
	flags.StringVar(&a.paymentDB, "payment-database-url", "sqlite:.emporium/payment.db", "payment database: postgres://… or sqlite:PATH")
	flags.StringVar(&a.shipDB, "shipping-database-url", "sqlite:.emporium/shipping.db", "shipping database: postgres://… or sqlite:PATH")
	flags.StringVar(&a.notificationDB, "notification-database-url", "sqlite:.emporium/notification.db", "notification database: postgres://… or sqlite:PATH")
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	for _, s := range []struct {
		name, url string
		migrate   migrator
	}{
		{"product", a.productDB, sqlFiles(product.Migrations)}, {"user", a.userDB, user.Migrate},
		{"order", a.orderDB, order.Migrate}, {"payment", a.paymentDB, payment.Migrate},
		{"shipping", a.shipDB, shipping.Migrate},
		{"notification", a.notificationDB, notification.Migrate},
	} {
		d, err := db.Open(ctx, s.url, db.Options{Schema: s.name})
		if err != nil {
			return err
		}
		applied, err := s.migrate(ctx, d)
		d.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "%s: up to date\n", s.name)
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "%s: applied %s\n", s.name, v)
		}
	}
	return nil
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("seed", stderr)
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	log, err := a.logger(stderr)
	if err != nil {
		return err
	}
	svc, closeProduct, err := openProduct(ctx, log, a.productDB, a.searchPath, a.currency, 0, true)
	if err != nil {
		return err
	}
	defer closeProduct()
	cat := seed.Demo(a.currency)
	fmt.Fprintf(stdout, "Seeding the demo catalog: %d products in %d categories…\n", len(cat.Products), len(cat.Categories))
	created, err := svc.Seed(ctx, cat, progressPrinter(stdout, "seeded"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %d products; %d were already there.\n", created, len(cat.Products)-created)
	return nil
}

func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("reindex", stderr)
	reset := flags.Bool("reset", false, "empty the index first (searches return less until it ends)")
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	log, err := a.logger(stderr)
	if err != nil {
		return err
	}
	svc, closeProduct, err := openProduct(ctx, log, a.productDB, a.searchPath, a.currency, 0, false)
	if err != nil {
		return err
	}
	defer closeProduct()
	fmt.Fprintln(stdout, "Rebuilding the search index from the database…")
	if err := svc.Reindex(ctx, *reset, progressPrinter(stdout, "indexed")); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Done.")
	return nil
}

// runCreateAdmin creates an admin account, or makes an existing account an
// admin: how a new shop gets its first admin.
func runCreateAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("create-admin", stderr)
	email := flags.String("email", "", "the admin's email")
	password := flags.String("password", "", "the admin's password for a new account (12+ characters); prefer EMPORIUM_PASSWORD")
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	log, err := a.logger(stderr)
	if err != nil {
		return err
	}
	svc, closeUser, err := openUser(ctx, log, a.userDB, "http://localhost:8080", mailbox.New(), nil, 0, true)
	if err != nil {
		return err
	}
	defer closeUser()
	created, err := svc.EnsureAdmin(ctx, *email, *password)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "Created admin %s.\n", *email)
	} else {
		fmt.Fprintf(stdout, "%s is an admin.\n", *email)
	}
	return nil
}
