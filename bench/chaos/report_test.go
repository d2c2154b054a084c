package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// report is the run's figures, written as markdown: a full run into
// docs/reliability.md between its markers, a smoke run into
// bin/chaos-smoke.md ($EMPORIUM_CHAOS_REPORT overrides either).
type report struct {
	mode    mode
	started time.Time
	took    time.Duration
	results []*result
}

const (
	markStart = "<!-- chaos:figures:start — `go tool task chaos` rewrites this part -->"
	markEnd   = "<!-- chaos:figures:end -->"
)

func (r *report) markdown(failed bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Last %s run: %s, %.0f min, on %d cores (%s, %s)", r.mode.name, r.started.Format("2006-01-02 15:04 UTC"),
		r.took.Minutes(), runtime.NumCPU(), runtime.GOOS, runtime.Version())
	if failed {
		b.WriteString(" — **THIS RUN FAILED** (see the test output)")
	}
	b.WriteString(".\n\n")
	faults, calls, acked, paid, lost, double := 0, 0, 0, 0, 0, 0
	for _, x := range r.results {
		faults += x.faults
		calls += x.calls
		acked += x.acked
		paid += x.paid
		lost += x.lost
		double += x.doubleCharged
	}
	fmt.Fprintf(&b, "**Faults injected: %d. Requests made: %d (checkout calls). Orders acknowledged: %d, payments acknowledged: %d. Orders lost: %d. Double charges: %d.**\n\n",
		faults, calls, acked, paid, lost, double)
	b.WriteString("| scenario | faults | took | calls | orders acknowledged | paid | lost | charged twice | failed calls by code | settled in | notes |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n")
	for _, x := range r.results {
		b.WriteString(x.row() + "\n")
	}
	fmt.Fprintf(&b, "\nShoppers: %d over %d SKUs; payment window %s; call deadline %s. *settled in*: from the end of the load until no River job was due, no order awaited payment, no stock hold awaited the sweep and no delivery awaited a retry.\n",
		r.mode.shoppers, r.mode.skus, r.mode.paymentWindow, callTimeout)
	return b.String()
}

func (r *report) write(t *testing.T) {
	md := r.markdown(t.Failed())
	t.Logf("figures:\n%s", md)
	out := os.Getenv("EMPORIUM_CHAOS_REPORT")
	if out == "" {
		out = filepath.Join("..", "..", "bin", "chaos-smoke.md")
		if r.mode.name == "full" {
			out = filepath.Join("..", "..", "docs", "reliability.md")
		}
	}
	if filepath.Base(out) == "reliability.md" {
		if t.Failed() {
			t.Logf("the run failed: %s left as it was", out)
			return
		}
		doc, err := os.ReadFile(out)
		if err != nil {
			t.Errorf("reading %s: %v", out, err)
			return
		}
		s := string(doc)
		i, j := strings.Index(s, markStart), strings.Index(s, markEnd)
		if i < 0 || j < i {
			t.Errorf("%s lacks the figures markers %q … %q", out, markStart, markEnd)
			return
		}
		s = s[:i+len(markStart)] + "\n" + md + s[j:]
		if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
			t.Error(err)
		}
		t.Logf("figures written into %s", out)
		return
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Error(err)
		return
	}
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		t.Error(err)
	}
}
