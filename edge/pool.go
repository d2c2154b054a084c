package edge

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// Balance is how a route spreads requests over its healthy upstreams.
type Balance int

const (
	// RoundRobin takes healthy upstreams in turn.
	RoundRobin Balance = iota
	// LeastRequests picks the less busy of two random healthy upstreams
	// (the power of two choices): close to the least-loaded choice without
	// scanning, and no herd onto one upstream.
	LeastRequests
)

// HealthCheck configures active health checking with the gRPC health
// protocol (grpc.health.v1.Health/Check).
type HealthCheck struct {
	// Service is the name asked about; "" asks about the whole server.
	Service  string
	Interval time.Duration // default 2 s
	Timeout  time.Duration // default 1 s
	// Unhealthy consecutive failures take an upstream out (default 2); one
	// success brings it back.
	Unhealthy int
}

func (hc HealthCheck) withDefaults() HealthCheck {
	if hc.Interval <= 0 {
		hc.Interval = 2 * time.Second
	}
	if hc.Timeout <= 0 {
		hc.Timeout = time.Second
	}
	if hc.Unhealthy <= 0 {
		hc.Unhealthy = 2
	}
	return hc
}

// backend is one upstream replica.
type backend struct {
	url      *url.URL
	healthy  atomic.Bool
	failures atomic.Int32 // consecutive failed checks
	inflight atomic.Int64
}

// pool is the upstreams of one route.
type pool struct {
	backends []*backend
	balance  Balance
	next     atomic.Uint64
}

var errNoHealthyUpstream = errors.New("no healthy upstream")

func newPool(targets []*url.URL, balance Balance) *pool {
	p := &pool{balance: balance}
	for _, t := range targets {
		b := &backend{url: t}
		b.healthy.Store(true) // until a check says otherwise
		p.backends = append(p.backends, b)
	}
	return p
}

// pick chooses a healthy upstream. It allocates nothing: it runs once per
// proxied request.
func (p *pool) pick() (*backend, error) {
	healthy := 0
	var only *backend
	for _, b := range p.backends {
		if b.healthy.Load() {
			healthy++
			only = b
		}
	}
	switch {
	case healthy == 0:
		return nil, errNoHealthyUpstream
	case healthy == 1:
		return only, nil
	case p.balance == LeastRequests:
		i := rand.IntN(healthy)
		j := rand.IntN(healthy - 1)
		if j >= i {
			j++
		}
		a, b := p.nthHealthy(i), p.nthHealthy(j)
		if a == nil || b == nil { // a check changed health meanwhile
			return p.pickAny()
		}
		if b.inflight.Load() < a.inflight.Load() {
			return b, nil
		}
		return a, nil
	default:
		if b := p.nthHealthy(int((p.next.Add(1) - 1) % uint64(healthy))); b != nil {
			return b, nil
		}
		return p.pickAny()
	}
}

// nthHealthy is the n-th (from 0) healthy backend, nil if there are fewer.
func (p *pool) nthHealthy(n int) *backend {
	for _, b := range p.backends {
		if b.healthy.Load() {
			if n == 0 {
				return b
			}
			n--
		}
	}
	return nil
}

// pickAny is the first healthy backend: the answer when health changed
// while pick was choosing.
func (p *pool) pickAny() (*backend, error) {
	if b := p.nthHealthy(0); b != nil {
		return b, nil
	}
	return nil, errNoHealthyUpstream
}

// markDown takes an upstream out at once after a failed connection; the
// health checker brings it back.
func (b *backend) markDown(log *slog.Logger, why error) {
	if b.healthy.Swap(false) {
		log.Warn("upstream marked down", "upstream", b.url.String(), "err", why)
	}
}

// check runs active health checks on every backend until ctx ends.
func (p *pool) check(ctx context.Context, hc HealthCheck, client connect.HTTPClient, log *slog.Logger) {
	hc = hc.withDefaults()
	for _, b := range p.backends {
		go b.checkLoop(ctx, hc, client, log)
	}
}

func (b *backend) checkLoop(ctx context.Context, hc HealthCheck, client connect.HTTPClient, log *slog.Logger) {
	health := grpchealth.NewClient(client, b.url.String())
	ticker := time.NewTicker(hc.Interval)
	defer ticker.Stop()
	for {
		b.checkOnce(ctx, hc, health, log)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (b *backend) checkOnce(ctx context.Context, hc HealthCheck, health *grpchealth.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	res, err := health.Check(ctx, &grpchealth.CheckRequest{Service: hc.Service})
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		return // shutting down
	}
	if err == nil && res.Status == grpchealth.StatusServing {
		b.failures.Store(0)
		if !b.healthy.Swap(true) {
			log.Info("upstream healthy again", "upstream", b.url.String())
		}
		return
	}
	if err == nil {
		err = errors.New("status " + res.Status.String())
	}
	if int(b.failures.Add(1)) >= hc.Unhealthy {
		b.markDown(log, err)
	}
}

// healthClient is the HTTP client health checks use: plain HTTP/1.1 keep-alive
// (the Connect protocol needs no HTTP/2 for unary calls).
func healthClient() *http.Client {
	return &http.Client{Transport: newUpstreamTransport().h1.fallback}
}

// UpstreamClient is the HTTP client for calls to a service that runs in
// another process, whose replicas are targets: not only the edge's own calls
// (AuthService calling the user service) but every call one service makes
// to another, such as the order service's to product, payment and shipping.
// Each request goes to the next of targets in turn (round-robin), whatever
// scheme and host its URL names, over the transport the edge proxies with:
// gRPC and streaming calls on h2c, the others on pooled HTTP/1.1
// connections, with no compression added.
//
// Like an edge route, it checks each replica's gRPC health (until ctx
// ends) and skips those that fail; a call whose connection is refused
// takes that replica out at once and goes to another (nothing reached the
// dead one, so nothing runs twice). It adds no credentials; callers add theirs (the internal credential) as interceptors.
// Each UpstreamClient has its own round-robin position and connections, so
// make one per service and keep it.
func UpstreamClient(ctx context.Context, targets []*url.URL, log *slog.Logger) *http.Client {
	p := newPool(targets, RoundRobin)
	p.check(ctx, HealthCheck{}, healthClient(), log)
	transport := newUpstreamTransport()
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		for range len(p.backends) {
			b, err := p.pick()
			if err != nil {
				return nil, err
			}
			out := r.Clone(r.Context())
			out.URL.Scheme, out.URL.Host, out.Host = b.url.Scheme, b.url.Host, ""
			res, err := transport.RoundTrip(out)
			var dial *net.OpError
			if err == nil || !errors.As(err, &dial) || dial.Op != "dial" {
				return res, err
			}
			// Nothing reached the replica: take it out until its health
			// check passes, and send the request to another.
			b.markDown(log, err)
			if r.Body != nil && r.Body != http.NoBody {
				if r.GetBody == nil {
					return nil, err
				}
				if r.Body, err = r.GetBody(); err != nil {
					return nil, err
				}
			}
		}
		return nil, errNoHealthyUpstream
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
