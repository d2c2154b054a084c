package bleve_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/svc/product/search"
	"github.com/emporiumhq/emporium/svc/product/search/bleve"
)

// benchIndexEnv names a seeded index for BenchmarkSearchSeeded, e.g. the
// search directory of `emporium seed --data-dir D --products 100000`
// (D/search). No process may have it open.
const benchIndexEnv = "EMPORIUM_BENCH_SEARCH_INDEX"

// BenchmarkSearchSeeded runs the queries of scripts/bench-search.sh and a
// few others against a seeded index, in one goroutine, and reports the
// process's CPU time per search (user + system, garbage collection
// included) beside the wall time: on a shared machine the CPU figure is
// what to compare. It is skipped unless EMPORIUM_BENCH_SEARCH_INDEX is
// set; profile it with -cpuprofile:
//
//	EMPORIUM_BENCH_SEARCH_INDEX=D/search go test -run '^$' -bench SearchSeeded \
//	  -cpuprofile /tmp/search.pprof ./svc/product/search/bleve/
func BenchmarkSearchSeeded(b *testing.B) {
	path := os.Getenv(benchIndexEnv)
	if path == "" {
		b.Skipf("set %s to a seeded index directory", benchIndexEnv)
	}
	idx, err := bleve.Open(path)
	if err != nil {
		b.Fatalf("Open(%s): %v", path, err)
	}
	b.Cleanup(func() { _ = idx.Close() })
	queries := []struct {
		name string
		q    search.Query
	}{
		// The bench's query: two words, a typo in each, a page of 24.
		{"two-typos", search.Query{Text: "waterprof jakcet", Limit: 24}},
		{"one-word", search.Query{Text: "jacket", Limit: 24}},
		{"prefix", search.Query{Text: "wool swea", Limit: 24}},
		{"filtered", search.Query{Text: "leather boots", Category: "boots", PriceBand: "100-200", Limit: 24}},
		{"no-match-fallback", search.Query{Text: "waterproof toaster", Limit: 24}},
	}
	for _, tt := range queries {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				res, err := idx.Search(b.Context(), tt.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Facets) != 3 {
					b.Fatalf("Search(%+v): %d facets, want 3", tt.q, len(res.Facets))
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
