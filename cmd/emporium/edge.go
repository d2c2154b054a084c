package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// buildEdge puts the edge in front of every service: in-process when it
// runs here, else proxied to its upstreams.
func buildEdge(ctx context.Context, log *slog.Logger, s *settings, p *process, peers *peers,
	keys *token.KeySet, verifier *token.Verifier, revocations token.Revocations, opts []connect.HandlerOption, landing bool,
) (http.Handler, error) {
	if s.internalToken == "" {
		return nil, errors.New("--internal-token is required: the edge presents it to the user service's internal methods")
	}
	for name := range s.upstreams {
		if _, ok := peers.local[name]; ok || !known(s.mods, name) {
			return nil, fmt.Errorf("--upstream: %q is not a service this edge routes elsewhere", name)
		}
	}
	var backends []edge.Backend
	for _, m := range s.mods {
		backends = append(backends, edge.Backend{Name: m.Name(), Routes: module.RoutesOf(m), Handler: peers.local[m.Name()], Targets: s.upstreams[m.Name()]})
	}
	var extra []edge.Route
	if s.devMailbox {
		// It holds live reset links, so only dev (or --dev-mailbox) shows it.
		mux := http.NewServeMux()
		mux.Handle("/dev/mailbox", p.mail.Handler())
		extra = append(extra, edge.Route{Prefix: "/dev/", Handler: mux})
	}
	if landing && s.edge.WebDir == "" {
		extra = append(extra, edge.Route{Prefix: "/", Handler: landingPage()})
	}
	h, closeEdge, err := edge.Open(ctx, &s.edge, edge.Setup{
		Backends: backends, Keys: keys, Verifier: verifier, Revocations: revocations, Issuer: s.issuer, Audience: tokenAudience,
		Users:   module.Client(&module.Env{Dial: peers.dial}, "user", userv1connect.NewUserServiceClient),
		Handler: opts, Extra: extra, Log: log,
	})
	p.closers = append(p.closers, closeEdge)
	return h, err
}
