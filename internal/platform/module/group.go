package module

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/audit"
)

// Group is a set of services opened together in one process, as `emporium
// serve` and `dev` run them and as the test world builds them.
type Group struct {
	closers []func()
}

// GroupConfig says how a Group opens its services.
type GroupConfig struct {
	// DB opens a service's database, migrated as the process wants it.
	DB func(ctx context.Context, m Module) (*bun.DB, error)
	// Env is what every service opens on; DB is set per service.
	Env Env
	// Handlers, when set, receives each service's handler by name as it
	// opens (Dial reads it at call time to reach services in the group).
	Handlers map[string]http.Handler
	// Reachable says whether a service outside the group runs elsewhere
	// (at an --upstream); nil: none does.
	Reachable func(name string) bool
}

// OpenGroup opens mods in order, refuses a service whose required peer runs
// neither in the group nor elsewhere, and then starts the background work
// of all of them, so that no job calls a service not yet open. On error,
// what was opened is closed.
func OpenGroup(ctx context.Context, mods []Module, cfg GroupConfig) (_ *Group, err error) {
	g := &Group{}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if cfg.Handlers == nil {
		cfg.Handlers = map[string]http.Handler{}
	}
	var opened []*Running
	for _, m := range mods {
		d, err := cfg.DB(ctx, m)
		if err != nil {
			return nil, err
		}
		g.closers = append(g.closers, func() { d.Close() })
		env := cfg.Env
		env.DB = d
		r, err := m.Open(ctx, &env)
		if err != nil {
			return nil, err
		}
		if r.Close != nil {
			g.closers = append(g.closers, r.Close)
		}
		cfg.Handlers[m.Name()] = withAudit(r.Handler, audit.New(d, m.Name()), cfg.Env.Handler)
		opened = append(opened, r)
	}
	var missing []error
	for _, m := range mods {
		for _, p := range m.Peers() {
			_, here := cfg.Handlers[p.Name]
			if !p.Optional && !here && (cfg.Reachable == nil || !cfg.Reachable(p.Name)) {
				missing = append(missing, fmt.Errorf("%s calls the %s service: pass --upstream %s=http://host:port, or run it here with --services=%s,%s",
					m.Name(), p.Name, p.Name, m.Name(), p.Name))
			}
		}
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	for i, r := range opened {
		if r.Start == nil {
			continue
		}
		if err := r.Start(ctx); err != nil {
			return nil, fmt.Errorf("start %s: %w", mods[i].Name(), err)
		}
		if r.Stop != nil {
			name := mods[i].Name()
			g.closers = append(g.closers, func() {
				// Running jobs get up to 10 s to finish.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := r.Stop(ctx); err != nil {
					cfg.Env.Log.Warn("stopping background jobs", "service", name, "err", err)
				}
			})
		}
	}
	return g, nil
}

// withAudit serves h with log attached, so that the audit interceptor
// records the service's staff and admin mutations in it, and serves
// AuditService for log under audit.PathPrefix (see RoutesOf).
func withAudit(h http.Handler, log *audit.Log, opts []connect.HandlerOption) http.Handler {
	mux := http.NewServeMux()
	audit.Mount(mux, log, opts...)
	mux.Handle("/", h)
	return audit.Attach(mux, log)
}

// Close stops the services' background work and releases what they hold,
// in the reverse order of opening.
func (g *Group) Close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}
