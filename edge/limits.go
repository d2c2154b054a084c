package edge

import (
	"net"
	"net/http"
	"sort"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
)

// DecisionsMetric counts the edge's rate-limit decisions by class and
// result (allowed, refused, or unlimited when the limiter could not
// decide and the request went through).
const DecisionsMetric = "emporium.edge.ratelimit.decisions"

// Limits configures the edge's token buckets: each request takes one token
// from the bucket of its route class and its client, the client being the
// signed-in user when the request carries a valid token, else the client's
// address.
type Limits struct {
	// Limiter holds the buckets: ratelimit.Memory in one process, Redis when
	// several edges must share them, wrapped in ratelimit.Guarded so a
	// failing backend follows a policy instead of failing requests.
	Limiter ratelimit.Limiter
	// Classes are the limits by class name; "default" applies to routes no
	// prefix names. A class without a limit is not limited.
	Classes map[string]ratelimit.Limit
	// Routes maps a path prefix to a class; the longest prefix wins.
	Routes map[string]string
	// User returns the verified user id of a request, "" for anonymous or
	// invalid credentials (which then count against the address). Nil: the
	// Subject of Config.Caller.
	User func(*http.Request) string
	// ClientIP returns the caller's address; see ClientIPFrom.
	ClientIP func(*http.Request) string
}

func (l *Limits) middleware(next http.Handler) http.Handler {
	prefixes := make([]string, 0, len(l.Routes))
	for p := range l.Routes {
		prefixes = append(prefixes, p)
	}
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	classOf := func(path string) string {
		for _, p := range prefixes {
			if strings.HasPrefix(path, p) {
				return l.Routes[p]
			}
		}
		return "default"
	}
	user := l.User
	if user == nil {
		user = func(r *http.Request) string { return callerOf(r).Subject }
	}
	clientIP := l.ClientIP
	if clientIP == nil {
		clientIP = ClientIPFrom("")
	}
	decisions, err := otel.GetMeterProvider().Meter("github.com/emporiumhq/emporium/edge").Int64Counter(DecisionsMetric,
		metric.WithDescription("Rate-limit decisions by class and result (allowed, refused, undecided)"), metric.WithUnit("{decision}"))
	if err != nil {
		otel.Handle(err)
		decisions = noop.Int64Counter{}
	}
	// Each class's limit with its decisions' attribute sets, made once
	// rather than per request.
	type class struct {
		limit                       ratelimit.Limit
		allowed, refused, undecided metric.AddOption
	}
	classes := make(map[string]class, len(l.Classes))
	for name, limit := range l.Classes {
		counted := func(result string) metric.AddOption {
			return metric.WithAttributes(attribute.String("class", name), attribute.String("result", result))
		}
		classes[name] = class{limit, counted("allowed"), counted("refused"), counted("undecided")}
	}
	count := func(r *http.Request, result metric.AddOption) { decisions.Add(r.Context(), 1, result) }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := classOf(r.URL.Path)
		c, ok := classes[name]
		if !ok || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		var key string // one concatenation: this runs on every request
		if id := user(r); id != "" {
			key = name + ":user:" + id
		} else {
			key = name + ":ip:" + clientIP(r)
		}
		d, err := l.Limiter.Take(r.Context(), key, c.limit, 1)
		if err != nil { // only an unguarded limiter errs; never turn it into a 500
			count(r, c.undecided)
			next.ServeHTTP(w, r)
			return
		}
		if !d.Allowed {
			count(r, c.refused)
			ratelimit.Refuse(w, d)
			return
		}
		count(r, c.allowed)
		lw := &limitHeaders{ResponseWriter: w, d: d}
		next.ServeHTTP(lw, r)
		lw.start() // a handler that wrote nothing still answers 200
	})
}

// limitHeaders adds the RateLimit-* headers of the edge's bucket when the
// response starts, unless the handler wrote a limit's own: a stricter limit
// inside (AuthService's per-account one) that refused the request, whose
// headers are the ones that tell the client when to come back.
type limitHeaders struct {
	http.ResponseWriter
	d       ratelimit.Decision
	written bool
}

func (w *limitHeaders) start() {
	if w.written {
		return
	}
	w.written = true
	h := w.ResponseWriter.Header()
	if !ratelimit.HasHeaders(h) {
		ratelimit.Headers(h, w.d)
	}
}

func (w *limitHeaders) WriteHeader(code int) {
	w.start()
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitHeaders) Write(b []byte) (int, error) {
	w.start()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and trailers.
func (w *limitHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *limitHeaders) Flush() {
	w.start()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ClientIPFrom returns a function finding a request's client address. With
// header empty it is the connection's peer address. Behind a trusted proxy
// or load balancer, name the header it sets: for X-Forwarded-For the last
// entry is taken, the one the trusted proxy appended (entries before it come
// from the client and could be forged).
func ClientIPFrom(header string) func(*http.Request) string {
	return func(r *http.Request) string {
		if header != "" {
			if v := r.Header.Values(header); len(v) > 0 {
				last := v[len(v)-1]
				if i := strings.LastIndexByte(last, ','); i >= 0 {
					last = last[i+1:]
				}
				if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
					return ip.String()
				}
			}
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
}
