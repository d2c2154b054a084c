package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
)

// errChainBroken is what `audit verify` returns when a chain breaks, for a
// non-zero exit status.
var errChainBroken = errors.New("audit log tampered with")

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		// `emporium audit --help` and flags before the subcommand: verify is
		// the only one.
		return runAuditVerify(ctx, args, getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "Usage: emporium audit verify [--services=…] [--database-url=… | --data-dir=…]")
		if len(args) == 0 {
			return errors.New("audit: name a subcommand: verify")
		}
		return fmt.Errorf("audit: unknown subcommand %q: want verify", args[0])
	}
	return runAuditVerify(ctx, args[1:], getenv, stdout, stderr)
}

// runAuditVerify walks each service's audit chain and prints where it
// breaks; it reads only, and works while the services run.
func runAuditVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags, a := newAdminFlags("audit verify", stderr)
	services := config.List(moduleNames(a.mods))
	flags.Var(&services, "services", "comma-separated services whose audit logs to verify: "+strings.Join(moduleNames(a.mods), ", "))
	if err := config.Parse(flags, args, getenv); err != nil {
		return err
	}
	run, _, err := pick(a.mods, services, false)
	if err != nil {
		return err
	}
	var broken []string
	for _, m := range run {
		d, deployed, err := openAuditDB(ctx, databaseURL(a.databaseURL, a.dataDir, m.Name()), m.Name())
		if err != nil {
			return err
		}
		if !deployed {
			fmt.Fprintf(stdout, "%s: no database or schema here, nothing recorded\n", m.Name())
			continue
		}
		r, err := audit.New(d, m.Name()).Verify(ctx)
		d.Close()
		if err != nil {
			// The service's database is here but its log is not readable:
			// never migrated to it, or its tables were dropped.
			broken = append(broken, m.Name())
			fmt.Fprintf(stdout, "%s: audit log unreadable (run `emporium migrate` if the database predates it): %v\n", m.Name(), err)
			continue
		}
		if len(r.Breaks) == 0 {
			fmt.Fprintf(stdout, "%s: %s, chain intact; head %d %s\n", m.Name(), count(r.Entries, "entry", "entries"), r.HeadSeq, r.HeadHash)
			continue
		}
		broken = append(broken, m.Name())
		fmt.Fprintf(stdout, "%s: %s, chain BROKEN in %s:\n", m.Name(), count(r.Entries, "entry", "entries"), count(int64(len(r.Breaks)), "place", "places"))
		for _, b := range r.Breaks {
			fmt.Fprintf(stdout, "  at entry %d: %s\n", b.Seq, b.Reason)
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("%w: %s", errChainBroken, strings.Join(broken, ", "))
	}
	return nil
}

// count is "1 entry", "2 entries".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// openAuditDB opens service's database at url without creating anything: a
// missing SQLite file or PostgreSQL schema means the service never ran
// against this database (deployed is false).
func openAuditDB(ctx context.Context, url, service string) (d *bun.DB, deployed bool, err error) {
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		d, err := db.Open(ctx, url, db.Options{})
		return d, err == nil, err
	}
	probe, err := db.Open(ctx, url, db.Options{MaxOpenConns: 1})
	if err != nil {
		return nil, false, err
	}
	var exists bool
	err = probe.QueryRowContext(ctx, "SELECT to_regnamespace(?) IS NOT NULL", service).Scan(&exists)
	probe.Close()
	if err != nil || !exists {
		return nil, false, err
	}
	d, err = db.Open(ctx, url, db.Options{Schema: service, MaxOpenConns: 2})
	return d, err == nil, err
}
