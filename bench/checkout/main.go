// Command bench-checkout is the end-to-end checkout load driver of
// scripts/bench.sh: a closed loop of signed-in virtual shoppers, each buying
// one item after another through the edge (CartService.AddItem, then
// CheckoutService.Checkout, then CheckoutService.PayOrder with the payment
// simulator's card that succeeds), as fast as the shop answers. The shopper
// loop itself is package bench/shop, which the chaos suite (bench/chaos)
// runs too.
//
// Usage:
//
//	bench-checkout -edge http://127.0.0.1:8080 -admin-email boss@example.com \
//	  [-shoppers 64] [-skus 50] [-warmup 2s] [-duration 10s] [-json]
//
// The admin's password comes from -admin-password or BENCH_ADMIN_PASSWORD.
//
// Setup: signs the admin in, picks -skus in-stock SKUs from ListProducts,
// raises each one's stock by -restock units (so no checkout runs out), and
// registers and signs in -shoppers new customers (unique emails per run; the
// edge must run with --rate-limits off, or Register and Login get 429s).
//
// Then every shopper loops until the warm-up and the measured run are over:
// AddItem(a random SKU of the chosen ones, quantity 1) → Checkout (a fresh
// idempotency key, a US address, shipping "local:standard") → PayOrder
// (pm_card_visa, the test card 4242 4242 4242 4242 as a payment method id,
// a fresh key). A checkout counts as completed only when PayOrder's answer
// says ORDER_STATUS_PAID. Checkouts that end during the
// warm-up are discarded, as are those still running when the run ends. Any
// error (a failed call, an order not paid) fails the run: the driver prints it
// and exits 1. When the warm-up ends it writes "bench-checkout: measuring" to
// stderr, and "bench-checkout: measured" when the measured run does, so a
// script can bracket CPU accounting around the measured part.
//
// Calls use the Connect protocol with the binary protobuf codec, over
// HTTP/1.1 keep-alive connections (one per shopper, kept idle between calls),
// uncompressed in both directions (as the wrk scenarios).
//
// The report on stdout gives completed checkouts/s, percentiles of the whole
// checkout's latency (three calls) and the mean latency of each call; with
// -json it is one JSON object on one line instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/emporiumhq/emporium/bench/shop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "bench-checkout:", err)
		os.Exit(1)
	}
}

type options struct {
	edge          string
	shoppers      int
	skus          int
	duration      time.Duration
	warmup        time.Duration
	adminEmail    string
	adminPassword string
	restock       int64
	callTimeout   time.Duration
	json          bool
	gzip          bool
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("bench-checkout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.edge, "edge", "http://127.0.0.1:8080", "base URL of the edge")
	fs.IntVar(&o.shoppers, "shoppers", 64, "concurrent virtual shoppers (each one HTTP/1.1 connection, one checkout at a time)")
	fs.IntVar(&o.skus, "skus", 50, "how many in-stock SKUs the shoppers buy from (at random)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before the measured run; checkouts ending in it are discarded")
	fs.StringVar(&o.adminEmail, "admin-email", "", "an admin's email (to restock the SKUs)")
	fs.StringVar(&o.adminPassword, "admin-password", "", "the admin's password (default $BENCH_ADMIN_PASSWORD)")
	fs.Int64Var(&o.restock, "restock", 100000, "units added to each chosen SKU's stock before the run")
	fs.DurationVar(&o.callTimeout, "call-timeout", 10*time.Second, "deadline of each call")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON line")
	fs.BoolVar(&o.gzip, "gzip", false, "ask for gzipped responses (off: nothing is compressed, like the wrk scenarios)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.adminPassword == "" {
		o.adminPassword = getenv("BENCH_ADMIN_PASSWORD")
	}
	switch {
	case o.adminEmail == "" || o.adminPassword == "":
		return errors.New("-admin-email and -admin-password (or BENCH_ADMIN_PASSWORD) are required")
	case o.shoppers < 1:
		return errors.New("-shoppers must be at least 1")
	case o.skus < 1:
		return errors.New("-skus must be at least 1")
	case o.duration <= 0 || o.warmup < 0:
		return errors.New("-duration must be positive and -warmup not negative")
	case o.warmup+o.duration > 12*time.Minute:
		// Access tokens live 15 minutes and the driver does not refresh them.
		return errors.New("-warmup plus -duration must stay under 12 minutes (access tokens are not refreshed)")
	case o.restock < 1 || o.restock > 1000000:
		return errors.New("-restock must be between 1 and 1000000")
	}

	client := shop.New(shop.Options{Edge: o.edge, Conns: o.shoppers, CallTimeout: o.callTimeout, Gzip: o.gzip})
	defer client.Close()
	d := &driver{o: o, shop: client, stderr: stderr}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench-checkout: "+format+"\n", a...) }

	setupStart := time.Now()
	skus, err := client.SetupCatalog(ctx, o.adminEmail, o.adminPassword, o.skus, o.restock)
	if err != nil {
		return err
	}
	accounts, err := client.SetupShoppers(ctx, o.shoppers)
	if err != nil {
		return err
	}
	logf("setup: %d SKUs restocked by %d, %d shoppers registered and signed in (%.1f s)",
		len(skus), o.restock, len(accounts), time.Since(setupStart).Seconds())

	res, err := d.load(ctx, skus, accounts)
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	res.print(stdout)
	return nil
}

type driver struct {
	o      options
	shop   *shop.Client
	stderr io.Writer
}

// sample is one completed checkout: when it ended and how long each call took.
type sample struct {
	end                     time.Time
	add, checkout, pay, all time.Duration
}

// load runs the shoppers for the warm-up and the measured run.
func (d *driver) load(ctx context.Context, skus []string, accounts []shop.Account) (*result, error) {
	start := time.Now()
	measureFrom := start.Add(d.o.warmup)
	end := measureFrom.Add(d.o.duration)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// bench.sh reads these two lines to bracket its CPU accounting; the
	// driver's own CPU over the measured run goes into the result.
	cpuc := make(chan time.Duration, 1)
	go func() {
		wait := func(t time.Time) bool {
			select {
			case <-time.After(time.Until(t)):
				return true
			case <-ctx.Done():
				return false
			}
		}
		if !wait(measureFrom) {
			cpuc <- -1
			return
		}
		c0 := cpuTime()
		fmt.Fprintln(d.stderr, "bench-checkout: measuring")
		if !wait(end) {
			cpuc <- -1
			return
		}
		cpuc <- cpuTime() - c0
		fmt.Fprintln(d.stderr, "bench-checkout: measured")
	}()

	results := make([][]sample, len(accounts))
	var wg sync.WaitGroup
	for i, acc := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := d.shop.NewShopper(i, acc.Token, skus)
			for time.Now().Before(end) && ctx.Err() == nil {
				p, err := s.Buy(ctx)
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("shopper %d: %w", i, err))
					}
					return
				}
				if !p.End.Before(measureFrom) && !p.End.After(end) {
					results[i] = append(results[i], sample{end: p.End, add: p.Add, checkout: p.Checkout, pay: p.Pay, all: p.All})
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	var all []sample
	for _, r := range results {
		all = append(all, r...)
	}
	if len(all) == 0 {
		return nil, errors.New("no checkout completed in the measured run")
	}
	res := summarize(d.o, all, len(skus))
	res.DriverCPUMs = math.Round(float64(<-cpuc) / 1e6)
	return res, nil
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// result is what the driver reports; the JSON names are what bench.sh reads.
type result struct {
	Shoppers     int     `json:"shoppers"`
	SKUs         int     `json:"skus"`
	WarmupS      float64 `json:"warmup_s"`
	DurationS    float64 `json:"duration_s"`
	Codec        string  `json:"codec"`
	Completed    int     `json:"completed"`
	PerSecond    float64 `json:"checkouts_per_s"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	MeanMs       float64 `json:"mean_ms"`
	AddItemMs    float64 `json:"additem_mean_ms"`
	CheckoutMs   float64 `json:"checkout_mean_ms"`
	PayOrderMs   float64 `json:"payorder_mean_ms"`
	AddItemP99   float64 `json:"additem_p99_ms"`
	CheckoutP99  float64 `json:"checkout_p99_ms"`
	PayOrderP99  float64 `json:"payorder_p99_ms"`
	Errors       int     `json:"errors"`
	DriverCPUMs  float64 `json:"driver_cpu_ms"` // this process's CPU over the measured run
	CallsPerSec  float64 `json:"calls_per_s"`
	Compressed   bool    `json:"gzip"`
	ProtocolNote string  `json:"protocol"`
}

func summarize(o options, s []sample, skus int) *result {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	pick := func(f func(sample) time.Duration) []time.Duration {
		v := make([]time.Duration, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		slices.Sort(v)
		return v
	}
	pct := func(v []time.Duration, p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[max(0, min(i, len(v)-1))]
	}
	mean := func(v []time.Duration) time.Duration {
		var t time.Duration
		for _, x := range v {
			t += x
		}
		return t / time.Duration(len(v))
	}
	all, add, co, pay := pick(func(x sample) time.Duration { return x.all }), pick(func(x sample) time.Duration { return x.add }),
		pick(func(x sample) time.Duration { return x.checkout }), pick(func(x sample) time.Duration { return x.pay })
	rate := float64(len(s)) / o.duration.Seconds()
	return &result{
		Shoppers: o.shoppers, SKUs: skus, WarmupS: o.warmup.Seconds(), DurationS: o.duration.Seconds(),
		Codec: "proto", Completed: len(s), PerSecond: math.Round(rate*10) / 10,
		P50Ms: ms(pct(all, 0.50)), P90Ms: ms(pct(all, 0.90)), P99Ms: ms(pct(all, 0.99)), MaxMs: ms(all[len(all)-1]),
		MeanMs: ms(mean(all)), AddItemMs: ms(mean(add)), CheckoutMs: ms(mean(co)), PayOrderMs: ms(mean(pay)),
		AddItemP99: ms(pct(add, 0.99)), CheckoutP99: ms(pct(co, 0.99)), PayOrderP99: ms(pct(pay, 0.99)),
		CallsPerSec: math.Round(rate*3*10) / 10, Compressed: o.gzip,
		ProtocolNote: "Connect unary, binary protobuf, HTTP/1.1 keep-alive",
	}
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "checkouts: %d completed in %.0f s (after %.0f s of warm-up), %d shoppers over %d SKUs, 0 errors\n",
		r.Completed, r.DurationS, r.WarmupS, r.Shoppers, r.SKUs)
	fmt.Fprintf(w, "checkouts/s: %.1f (%.1f calls/s)\n", r.PerSecond, r.CallsPerSec)
	fmt.Fprintf(w, "checkout latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, mean %.2f ms\n",
		r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.MeanMs)
	fmt.Fprintf(w, "per call, mean (p99): AddItem %.2f ms (%.2f), Checkout %.2f ms (%.2f), PayOrder %.2f ms (%.2f)\n",
		r.AddItemMs, r.AddItemP99, r.CheckoutMs, r.CheckoutP99, r.PayOrderMs, r.PayOrderP99)
}
