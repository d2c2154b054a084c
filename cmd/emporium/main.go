// Command emporium is the whole Emporium platform in one binary:
//
//	emporium dev        everything in one process on embedded defaults
//	emporium serve      any subset of services against real systems
//	emporium migrate    apply database migrations
//	emporium seed       load the demo catalog
//	emporium reindex    rebuild the search index from the database
//	emporium create-admin  create the shop's first admin
//	emporium keys       rotate the edge's signing keys
//	emporium audit verify  check the services' hash-chained audit logs
//	emporium doctor     check a deployment's config and reachability
//	emporium health     check a serving process's health (for containers)
//	emporium version    print the version
//
// Every flag can also be set through an EMPORIUM_* environment variable; see
// docs/config.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "emporium:", err)
		os.Exit(1)
	}
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"dev", "run the whole shop in one process on embedded defaults", runDev},
		{"serve", "run chosen services against real databases (--services=product,edge)", runServe},
		{"migrate", "apply database migrations", runMigrate},
		{"seed", "load the demo catalog (idempotent)", runSeed},
		{"reindex", "rebuild the search index from the database", runReindex},
		{"create-admin", "create an admin account, or make an account an admin", runCreateAdmin},
		{"keys", "list, add, activate or retire the edge's signing keys", runKeys},
		{"audit", "verify the services' audit logs (audit verify): non-zero exit when a chain is broken", runAudit},
		{"doctor", "check a deployment's configuration and reach every system it names", runDoctor},
		{"health", "ask a serving process on this host whether it is healthy (container health checks)", runHealth},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Emporium: an e-commerce platform in one binary.\n\nUsage: emporium <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'emporium <command> --help' for its flags. Every flag is also an EMPORIUM_* variable.")
}

// version is the module version, with the VCS revision when the binary was
// built from a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

func runVersion(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
	_, err := fmt.Fprintln(stdout, "emporium", version())
	return err
}
