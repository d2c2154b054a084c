package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/user"
)

// adminFlags are the flags of the one-shot admin commands; the defaults
// point at the data of `emporium dev`.
type adminFlags struct {
	common
	databaseURL, dataDir string
	mods                 []module.Module
}

func newAdminFlags(name string, stderr io.Writer) (*flag.FlagSet, *adminFlags) {
	fs := config.NewFlagSet(name, stderr)
	a := &adminFlags{mods: modules()}
	a.register(fs)
	fs.StringVar(&a.databaseURL, "database-url", "", "database of the services, a schema each on PostgreSQL, as serve's: postgres://… or sqlite:PATH; empty: dev's SQLite files in --data-dir")
	fs.StringVar(&a.dataDir, "data-dir", ".emporium", "dev's data directory: its databases, search index and labels")
	return fs, a
}

// open opens module m on its database, migrated when migrate is set, for a
// one-shot command: no peers, no background work.
func (a *adminFlags) open(ctx context.Context, log *slog.Logger, m module.Module, migrate bool) (func(), error) {
	d, err := openDB(ctx, log, databaseURL(a.databaseURL, a.dataDir, m.Name()), m, migrate, 0)
	if err != nil {
		return nil, err
	}
	r, err := m.Open(ctx, &module.Env{
		Log: log, DB: d, Currency: a.currency, PublicURL: "http://localhost:8080", DataDir: a.dataDir,
		Mailbox: mailbox.New(), Getenv: func(string) string { return "" },
		Dial: func(string) (connect.HTTPClient, string, []connect.ClientOption, bool) { return nil, "", nil, false },
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return func() {
		if r.Close != nil {
			r.Close()
		}
		d.Close()
	}, nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("migrate", stderr)
	services := config.List(moduleNames(a.mods))
	flags.Var(&services, "services", "comma-separated services whose databases to migrate: "+strings.Join(moduleNames(a.mods), ", "))
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	run, _, err := pick(a.mods, services, false)
	if err != nil {
		return err
	}
	for _, m := range run {
		d, err := db.Open(ctx, databaseURL(a.databaseURL, a.dataDir, m.Name()), db.Options{Schema: m.Name()})
		if err != nil {
			return err
		}
		applied, err := m.Migrate(ctx, d)
		d.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name(), err)
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "%s: up to date\n", m.Name())
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "%s: applied %s\n", m.Name(), v)
		}
	}
	return nil
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("seed", stderr)
	products := find[*product.Module](a.mods)
	products.Flags(flags)
	generate := flags.Int("products", 0, "generate this many products (deterministic, with variants) instead of the 520-product demo catalog")
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	if *generate < 0 {
		return fmt.Errorf("--products: %d is negative", *generate)
	}
	log, err := a.logger(stderr)
	if err != nil {
		return err
	}
	closeProduct, err := a.open(ctx, log, products, true)
	if err != nil {
		return err
	}
	defer closeProduct()
	svc := products.Service()
	cat, what := seed.Demo(a.currency), "the demo catalog"
	if *generate > 0 {
		cat, what = seed.Generated(a.currency, *generate), "a generated catalog"
	}
	fmt.Fprintf(stdout, "Seeding %s: %d products in %d categories…\n", what, len(cat.Products), len(cat.Categories))
	created, err := svc.Seed(ctx, cat, progressPrinter(stdout, "seeded"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %d products; %d were already there.\n", created, len(cat.Products)-created)
	return nil
}

func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("reindex", stderr)
	products := find[*product.Module](a.mods)
	products.Flags(flags)
	reset := flags.Bool("reset", false, "empty the index first (searches return less until it ends)")
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	log, err := a.logger(stderr)
	if err != nil {
		return err
	}
	closeProduct, err := a.open(ctx, log, products, false)
	if err != nil {
		return err
	}
	defer closeProduct()
	svc := products.Service()
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
	users := find[*user.Module](a.mods)
	closeUser, err := a.open(ctx, log, users, true)
	if err != nil {
		return err
	}
	defer closeUser()
	created, err := users.Service().EnsureAdmin(ctx, *email, *password)
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
