package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// adminFlags are the flags of the one-shot admin commands: where the catalog
// lives, defaulting to the data of `emporium dev`.
func adminFlags(name string, stderr io.Writer) (*flag.FlagSet, *common, *catalogStore) {
	fs := newFlagSet(name, stderr)
	c := new(common)
	c.register(fs)
	st := new(catalogStore)
	fs.StringVar(&st.databaseURL, "database-url", "sqlite:.emporium/product.db", "product database: postgres://… or sqlite:PATH")
	fs.StringVar(&st.searchPath, "search-path", ".emporium/search", "directory of the on-disk search index")
	return fs, c, st
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c, st := adminFlags("migrate", stderr)
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	if _, err := c.logger(stderr); err != nil {
		return err
	}
	d, err := db.Open(ctx, st.databaseURL, db.Options{Schema: "product"})
	if err != nil {
		return err
	}
	defer d.Close()
	applied, err := db.Migrate(ctx, d, product.Migrations)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "product: up to date")
	}
	for _, v := range applied {
		fmt.Fprintln(stdout, "product: applied", v)
	}
	return nil
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c, st := adminFlags("seed", stderr)
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	svc, closeProduct, err := openProduct(ctx, log, *st, c.currency, true)
	if err != nil {
		return err
	}
	defer closeProduct()
	cat := seed.Demo(c.currency)
	fmt.Fprintf(stdout, "Seeding the demo catalog: %d products in %d categories…\n", len(cat.Products), len(cat.Categories))
	created, err := svc.Seed(ctx, cat, progressPrinter(stdout, "seeded"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %d products; %d were already there.\n", created, len(cat.Products)-created)
	return nil
}

func runReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c, st := adminFlags("reindex", stderr)
	reset := fs.Bool("reset", false, "empty the index first (searches return less until it ends)")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	svc, closeProduct, err := openProduct(ctx, log, *st, c.currency, false)
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
