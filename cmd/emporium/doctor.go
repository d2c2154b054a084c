package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/grpchealth"
	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/token"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// runDoctor checks a deployment's configuration and reaches every system it
// names (databases, Redis, Elasticsearch, SMTP, carriers, Stripe, the other
// processes), and says in words what is wrong. It takes serve's flags and
// variables, so it checks exactly what `emporium serve` would run with:
//
//	emporium doctor --services=order --database-url=… --upstream=…
//
// It changes nothing and exits 1 when anything failed.
func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := config.NewFlagSet("doctor", stderr)
	var s settings
	servicesFlag, _ := s.registerServe(fs)
	timeout := fs.Duration("check-timeout", 5*time.Second, "doctor: how long each check may take")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	d := &doctor{out: stdout, flags: fs, getenv: getenv, timeout: *timeout, client: &http.Client{Timeout: *timeout}}
	d.run(ctx, &s, *servicesFlag)
	fmt.Fprintf(stdout, "\n%d ok, %d warnings, %d problems\n", d.oks, d.warns, d.fails)
	if d.fails > 0 {
		return fmt.Errorf("doctor found %d problem(s)", d.fails)
	}
	return nil
}

type doctor struct {
	out               io.Writer
	flags             *flag.FlagSet
	getenv            func(string) string
	timeout           time.Duration
	client            *http.Client
	oks, warns, fails int
}

func (d *doctor) ok(what, format string, a ...any) {
	d.oks++
	fmt.Fprintf(d.out, "ok    %-14s %s\n", what, fmt.Sprintf(format, a...))
}

func (d *doctor) warn(what, format string, a ...any) {
	d.warns++
	fmt.Fprintf(d.out, "warn  %-14s %s\n", what, fmt.Sprintf(format, a...))
}

func (d *doctor) fail(what, format string, a ...any) {
	d.fails++
	fmt.Fprintf(d.out, "FAIL  %-14s %s\n", what, fmt.Sprintf(format, a...))
}

// flag is the value of a flag a module registered (doctor reads the
// modules' settings by name, as an operator writes them).
func (d *doctor) flag(name string) string {
	if f := d.flags.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func (d *doctor) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d.timeout)
}

func (d *doctor) run(ctx context.Context, s *settings, services config.List) {
	run, withEdge, err := pick(s.mods, services, true)
	if err != nil {
		d.fail("services", "%v", err)
		return
	}
	var names []string
	for _, m := range run {
		names = append(names, m.Name())
	}
	if withEdge {
		names = append(names, "edge")
	}
	d.ok("services", "this process runs %s", strings.Join(names, ", "))
	d.checkLayout(s, run, withEdge)
	if len(run) > 0 {
		d.checkDatabase(ctx, s.databaseURL, run, s.migrate)
	}
	d.checkRedis(ctx, s.edge.RedisURL, withEdge)
	for _, m := range run {
		switch m.Name() {
		case "product":
			d.checkSearch(ctx)
		case "notification":
			d.checkSMTP(ctx)
		case "shipping":
			d.checkCarriers(ctx, find[*shipping.Module](s.mods).Adapters)
			d.checkLabels(ctx)
		case "payment":
			d.checkStripe(ctx)
		}
	}
	d.checkUpstreams(ctx, s)
	if len(run) > 0 && !withEdge && s.jwksURL != "" {
		d.checkJWKS(ctx, s.jwksURL)
	}
	if withEdge {
		d.checkSigningKeys(s.edge.SigningKeys)
	}
}

// checkLayout: the settings a process of this shape needs are there, and
// every service it calls runs in it or at an --upstream.
func (d *doctor) checkLayout(s *settings, run []module.Module, withEdge bool) {
	local := func(name string) bool {
		return slices.ContainsFunc(run, func(m module.Module) bool { return m.Name() == name })
	}
	split := !withEdge || len(run) < len(s.mods)
	if len(run) > 0 && s.databaseURL == "" {
		d.fail("database", "--database-url (EMPORIUM_DATABASE_URL) is not set; the services here keep their data there")
	}
	if split && s.internalToken == "" {
		d.fail("internal-token", "--internal-token (EMPORIUM_INTERNAL_TOKEN) is not set: the edge and services in other processes must share one secret")
	} else if split && len(s.internalToken) < 16 {
		d.warn("internal-token", "--internal-token is %d characters; use a long random one (openssl rand -hex 32)", len(s.internalToken))
	}
	if len(run) > 0 && !withEdge && s.jwksURL == "" {
		d.fail("jwks-url", "--jwks-url is not set: services without the edge need the edge's keys, e.g. http://edge:8080/.well-known/jwks.json")
	}
	for _, m := range s.mods {
		switch {
		case local(m.Name()):
			for _, p := range m.Peers() {
				if local(p.Name) || len(s.upstreams[p.Name]) > 0 {
					continue
				}
				if p.Optional {
					d.warn("upstream", "%s calls %s, which runs neither here nor at an --upstream: %s runs without it", m.Name(), p.Name, m.Name())
				} else {
					d.fail("upstream", "%s calls %s, which runs neither here nor at an --upstream: add --upstream %s=http://HOST:PORT", m.Name(), p.Name, p.Name)
				}
			}
		case withEdge && len(s.upstreams[m.Name()]) == 0 && !m.Routes().Optional:
			d.fail("upstream", "the edge routes to %s, which runs neither here nor at an --upstream: add --upstream %s=http://HOST:PORT", m.Name(), m.Name())
		}
	}
	if withEdge {
		if s.edge.RedisURL == "" {
			d.warn("redis", "no --redis-url: sessions and rate limits live in this process, so run one edge replica only")
		}
		if u, err := url.Parse(s.publicURL); err == nil && u.Scheme == "http" && u.Hostname() != "localhost" && !isLoopbackHost(u.Hostname()) {
			d.warn("public-url", "%s is plain http: shoppers' links and cookies need https in production", s.publicURL)
		}
	}
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (d *doctor) checkDatabase(ctx context.Context, dbURL string, run []module.Module, migrate bool) {
	if dbURL == "" {
		return
	}
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	conn, err := db.Open(ctx, dbURL, db.Options{Schema: run[0].Name()})
	if err != nil {
		d.fail("database", "cannot open %s: %v", redactURL(dbURL), err)
		return
	}
	defer conn.Close()
	if strings.HasPrefix(dbURL, "sqlite:") {
		var v string
		if err := conn.QueryRowContext(ctx, "select sqlite_version()").Scan(&v); err != nil {
			d.fail("database", "SQLite %s does not answer: %v", strings.TrimPrefix(dbURL, "sqlite:"), err)
			return
		}
		d.ok("database", "SQLite %s at %s", v, strings.TrimPrefix(dbURL, "sqlite:"))
		return
	}
	var v string
	if err := conn.QueryRowContext(ctx, "show server_version").Scan(&v); err != nil {
		d.fail("database", "PostgreSQL at %s does not answer: %v", redactURL(dbURL), err)
		return
	}
	d.ok("database", "PostgreSQL %s at %s", v, redactURL(dbURL))
	for _, m := range run {
		var n int
		if err := conn.QueryRowContext(ctx, "select count(*) from information_schema.schemata where schema_name = ?", m.Name()).Scan(&n); err != nil {
			d.fail("database", "cannot read the schemas: %v", err)
			return
		}
		switch {
		case n == 1:
			d.ok("database", "schema %q is there", m.Name())
		case migrate:
			d.warn("database", "schema %q is missing: serve will make it at start (--migrate)", m.Name())
		default:
			d.fail("database", "schema %q is missing and --migrate=false: run emporium migrate", m.Name())
		}
	}
}

func (d *doctor) checkRedis(ctx context.Context, redisURL string, withEdge bool) {
	if redisURL == "" {
		return
	}
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		d.fail("redis", "--redis-url %s: %v", redactURL(redisURL), err)
		return
	}
	opt.DisableCache = true
	opt.Dialer.Timeout = d.timeout
	client, err := rueidis.NewClient(opt)
	if err != nil {
		d.fail("redis", "cannot reach %s: %v", redactURL(redisURL), err)
		return
	}
	defer client.Close()
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		d.fail("redis", "%s does not answer PING: %v", redactURL(redisURL), err)
		return
	}
	d.ok("redis", "%s answers", redactURL(redisURL))
}

func (d *doctor) checkSearch(ctx context.Context) {
	u := d.flag("search-url")
	if u == "" {
		if d.flag("search-path") == "" {
			d.warn("search", "no --search-url or --search-path: the index is kept in data/search; with more than one product replica use Elasticsearch")
		} else {
			d.ok("search", "Bleve index at %s (one product replica only)", d.flag("search-path"))
		}
		return
	}
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		d.fail("search", "--search-url %s: %v", redactURL(u), err)
		return
	}
	if key := d.flag("search-api-key"); key != "" {
		req.Header.Set("Authorization", "ApiKey "+key)
	}
	res, err := d.client.Do(req)
	if err != nil {
		d.fail("search", "cannot reach Elasticsearch at %s: %v", redactURL(u), err)
		return
	}
	defer res.Body.Close()
	var info struct {
		Version struct{ Number string } `json:"version"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&info)
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		d.fail("search", "Elasticsearch at %s refused us (%s): check --search-api-key or the URL's user and password", redactURL(u), res.Status)
	case res.StatusCode != http.StatusOK:
		d.fail("search", "Elasticsearch at %s answered %s", redactURL(u), res.Status)
	case res.Header.Get("X-Elastic-Product") != "Elasticsearch":
		d.fail("search", "%s is not Elasticsearch (no X-Elastic-Product header); Emporium needs Elasticsearch 8", redactURL(u))
	case !strings.HasPrefix(info.Version.Number, "8."):
		d.fail("search", "Elasticsearch %s at %s; Emporium needs 8.x", info.Version.Number, redactURL(u))
	default:
		d.ok("search", "Elasticsearch %s at %s", info.Version.Number, redactURL(u))
	}
}

func (d *doctor) checkSMTP(ctx context.Context) {
	host := d.flag("smtp-host")
	if host == "" {
		if d.flag("dev-mailbox") == "true" {
			d.warn("smtp", "no --smtp-host: messages go to the dev mailbox only")
		} else {
			d.fail("smtp", "no --smtp-host: the notification service needs an SMTP relay to send email")
		}
		return
	}
	addr := net.JoinHostPort(host, d.flag("smtp-port"))
	policy := d.flag("smtp-tls")
	dialer := &net.Dialer{Timeout: d.timeout}
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	var conn net.Conn
	var err error
	if policy == "implicit" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		d.fail("smtp", "cannot reach %s: %v", addr, err)
		return
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		d.fail("smtp", "%s does not greet as an SMTP server: %v", addr, err)
		return
	}
	defer c.Close()
	if err := c.Hello("emporium-doctor"); err != nil {
		d.fail("smtp", "%s refused EHLO: %v", addr, err)
		return
	}
	starttls, _ := c.Extension("STARTTLS")
	if policy == "mandatory" && !starttls {
		d.fail("smtp", "%s does not offer STARTTLS, which --smtp-tls=mandatory requires (use implicit on port 465, or none only for a relay on this host)", addr)
		return
	}
	if (d.flag("smtp-username") != "" || d.flag("smtp-password") != "") && policy != "none" && starttls {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			d.fail("smtp", "STARTTLS with %s failed: %v", addr, err)
			return
		}
	}
	if d.flag("smtp-username") != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			d.fail("smtp", "%s offers no AUTH, but --smtp-username is set", addr)
			return
		}
	}
	_ = c.Quit()
	d.ok("smtp", "%s answers (TLS policy %s)", addr, policy)
}

func (d *doctor) checkCarriers(ctx context.Context, adapters []shipping.CarrierAdapter) {
	if d.flag("ship-from") == "" {
		d.fail("shipping", "--ship-from is not set: labels need the address parcels ship from")
	}
	for _, name := range strings.Split(d.flag("carriers"), ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(adapters, func(a shipping.CarrierAdapter) bool { return a.Name == name })
		if i < 0 {
			continue // the local carrier, or a name serve refuses itself
		}
		a := adapters[i]
		var missing []string
		for _, f := range []string{"client-id", "client-secret", "account"} {
			if d.flag(a.Name+"-"+f) == "" {
				missing = append(missing, "--"+a.Name+"-"+f)
			}
		}
		if len(missing) > 0 {
			d.fail("carrier", "%s: %s not set (make an app at %s)", a.Label, strings.Join(missing, ", "), a.Site)
			continue
		}
		base := d.flag(a.Name + "-base-url")
		if base == "" {
			base = a.DefaultBaseURL
		}
		cctx, cancel := d.ctx(ctx)
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, base, nil)
		if err == nil {
			var res *http.Response
			if res, err = d.client.Do(req); err == nil {
				res.Body.Close()
			}
		}
		cancel()
		if err != nil {
			d.fail("carrier", "%s: cannot reach %s: %v", a.Label, base, err)
			continue
		}
		d.ok("carrier", "%s answers at %s", a.Label, base)
	}
}

func (d *doctor) checkLabels(ctx context.Context) {
	spec := d.flag("label-dir")
	if spec == "" {
		spec = "data/labels"
	}
	if !strings.HasPrefix(spec, "s3://") {
		d.ok("labels", "kept in the directory %s (share it, or use s3://, with more than one shipping replica)", spec)
		return
	}
	store, err := blob.Open(spec, d.getenv)
	if err != nil {
		d.fail("labels", "%v", err)
		return
	}
	defer store.Close()
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	// Reading a key that is never written proves the bucket and the
	// credentials without writing anything: S3 answers 404 only to a caller
	// allowed to read.
	if _, _, err := store.Get(ctx, "emporium-doctor/probe"); err != nil && !errs.Is(err, errs.NotFound) {
		d.fail("labels", "%s: %v", spec, err)
		return
	}
	d.ok("labels", "%s is readable with the credentials found", spec)
}

// stripeMode is "live" or "test" from a Stripe key's prefix, or "".
func stripeMode(key string, prefixes ...string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p+"_live_") {
			return "live"
		}
		if strings.HasPrefix(key, p+"_test_") {
			return "test"
		}
	}
	return ""
}

func (d *doctor) checkStripe(ctx context.Context) {
	if d.flag("payment-provider") != "stripe" {
		d.warn("payments", "--payment-provider=%s: payments go to the local simulator and no money moves", d.flag("payment-provider"))
		return
	}
	secret, pub, hook := d.flag("stripe-secret-key"), d.flag("stripe-publishable-key"), d.flag("stripe-webhook-secret")
	secretMode, pubMode := stripeMode(secret, "sk", "rk"), stripeMode(pub, "pk")
	switch {
	case secret == "" || pub == "" || hook == "":
		d.fail("stripe", "--stripe-secret-key, --stripe-publishable-key and --stripe-webhook-secret are all needed")
		return
	case secretMode == "":
		d.fail("stripe", "--stripe-secret-key does not look like a Stripe secret key (sk_live_…, sk_test_… or a restricted rk_…)")
		return
	case pubMode == "":
		d.fail("stripe", "--stripe-publishable-key does not look like a publishable key (pk_live_… or pk_test_…)")
		return
	case secretMode != pubMode:
		d.fail("stripe", "the secret key is a %s key but the publishable key a %s one: take both from the same mode of the Dashboard", secretMode, pubMode)
		return
	}
	if !strings.HasPrefix(hook, "whsec_") {
		d.warn("stripe", "--stripe-webhook-secret does not start with whsec_: copy the endpoint's signing secret from the Dashboard")
	}
	api := d.flag("stripe-api-url")
	if api == "" {
		api = "https://api.stripe.com"
	}
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(api, "/")+"/v1/balance", nil)
	if err != nil {
		d.fail("stripe", "--stripe-api-url %s: %v", api, err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := d.client.Do(req)
	if err != nil {
		d.fail("stripe", "cannot reach Stripe at %s: %v", api, err)
		return
	}
	res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		if secretMode == "test" {
			d.warn("stripe", "Stripe accepts the keys, in test mode: no real money moves")
		} else {
			d.ok("stripe", "Stripe accepts the keys, in live mode")
		}
	case http.StatusUnauthorized:
		d.fail("stripe", "Stripe refused the secret key (401): it is wrong or was rolled")
	default:
		d.fail("stripe", "Stripe answered %s to a balance read with the secret key", res.Status)
	}
}

func (d *doctor) checkUpstreams(ctx context.Context, s *settings) {
	names := make([]string, 0, len(s.upstreams))
	for name := range s.upstreams {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, u := range s.upstreams[name] {
			cctx, cancel := d.ctx(ctx)
			res, err := grpchealth.NewClient(d.client, u.String()).Check(cctx, &grpchealth.CheckRequest{})
			cancel()
			switch {
			case err != nil:
				d.fail("upstream", "%s at %s does not answer gRPC health: %v", name, u, err)
			case res.Status != grpchealth.StatusServing:
				d.fail("upstream", "%s at %s is %s", name, u, res.Status)
			default:
				d.ok("upstream", "%s at %s is serving", name, u)
			}
		}
	}
}

func (d *doctor) checkJWKS(ctx context.Context, jwksURL string) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		d.fail("jwks-url", "%s: %v", jwksURL, err)
		return
	}
	res, err := d.client.Do(req)
	if err != nil {
		d.fail("jwks-url", "cannot reach the edge's keys at %s: %v", jwksURL, err)
		return
	}
	defer res.Body.Close()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&set) != nil || len(set.Keys) == 0 {
		d.fail("jwks-url", "%s answered %s without a key set: is it the edge's /.well-known/jwks.json?", jwksURL, res.Status)
		return
	}
	d.ok("jwks-url", "%s publishes %d key(s)", jwksURL, len(set.Keys))
}

func (d *doctor) checkSigningKeys(path string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		d.warn("signing-keys", "%s does not exist: the edge makes it at first start; give every edge replica the same file", path)
		return
	}
	if err != nil {
		d.fail("signing-keys", "cannot read %s: %v", path, err)
		return
	}
	keys, err := token.ParseKeys(data)
	if err != nil {
		d.fail("signing-keys", "%s: %v", path, err)
		return
	}
	d.ok("signing-keys", "%s holds %s key(s)", path, strconv.Itoa(len(keys)))
}

// redactURL hides a URL's password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparseable URL)"
	}
	return u.Redacted()
}
