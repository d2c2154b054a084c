// Package config reads settings from flags and EMPORIUM_* environment
// variables. Every setting is a flag; its variable is the flag name in upper
// case with dashes as underscores (--database-url ↔ EMPORIUM_DATABASE_URL). A
// flag given on the command line wins over the environment.
package config

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// EnvName is the environment variable for a flag.
func EnvName(flagName string) string {
	return "EMPORIUM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// NewFlagSet returns the flag set of command "emporium name", whose errors
// and --help go to stderr; the help names each flag's variable.
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("emporium "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: emporium %s [flags]\n\nFlags (each also an environment variable, shown in brackets):\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s [%s]\n    \t%s (default %q)\n", f.Name, EnvName(f.Name), f.Usage, f.DefValue)
		})
	}
	return fs
}

// Parse parses args into fs, then fills every flag not set on the command
// line from its environment variable, if that is set.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// List is a comma-separated flag value.
type List []string

func (l *List) String() string { return strings.Join(*l, ",") }

func (l *List) Set(s string) error {
	*l = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
