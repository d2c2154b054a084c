package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// usage is one process's footprint, read from /proc and, for goroutines,
// from its Prometheus metrics.
type usage struct {
	rssKiB, threads, fds, goroutines int
}

// goroutines reads go_goroutines from a process's metrics endpoint (-1
// when it cannot).
func goroutines(url string) int {
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return int(n)
			}
		}
	}
	return -1
}

func procUsage(pid int) usage {
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			u.rssKiB, _ = strconv.Atoi(f[1])
		case "Threads:":
			u.threads, _ = strconv.Atoi(f[1])
		}
	}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	u.fds = len(fds)
	return u
}

// sample is the footprint of every process and the database connections.
type sample struct {
	at      time.Time
	procs   map[string]usage
	dbConns int
}

func (w *world) sample() sample {
	s := sample{at: time.Now(), procs: map[string]usage{}}
	for _, p := range []*proc{w.core, w.comm, w.edge, w.edge2} {
		u := procUsage(p.Pid())
		u.goroutines = goroutines(w.metrics[p.Name()])
		s.procs[p.Name()] = u
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.dbConns, _ = w.count(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = 'emporium'`)
	return s
}

// soakScenario runs mixed load for the mode's soak time: checkouts, and a
// trickle of limit probes on both edges. After a warm-up (the first
// quarter), memory, threads, open files and database connections must stay
// flat, and the last window's p99 within 1.5× the first's. Only the full
// mode judges these; a smoke run is too short to tell drift or a leak from
// warming up, and only reports them (its books are checked as always).
func soakScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	stop := make(chan struct{})
	go func() { // the mixed part: anonymous catalog-side traffic on both edges
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			e := w.edge
			if i%2 == 1 {
				e = w.edge2
			}
			probe(e.URL(), newProbeIP(), 1)
		}
	}()
	every := 5 * time.Second
	if w.mode.soak < 2*time.Minute {
		every = 2 * time.Second
	}
	var samples []sample
	end := start.Add(w.mode.soak)
	for time.Now().Before(end) {
		samples = append(samples, w.sample())
		sleep(min(every, time.Until(end)))
	}
	samples = append(samples, w.sample())
	close(stop)

	warm := start.Add(w.mode.soak / 4)
	win := time.Minute
	if w.mode.soak < 4*time.Minute {
		win = w.mode.soak / 4
	}
	firstP99, nFirst := l.p99(warm, warm.Add(win))
	lastP99, nLast := l.p99(end.Add(-win), end)
	w.finish(t, l, r, start)

	var after []sample
	for _, s := range samples {
		if !s.at.Before(warm) {
			after = append(after, s)
		}
	}
	if len(after) < 2 {
		t.Fatalf("only %d samples after the warm-up", len(after))
	}
	avg := func(ss []sample, f func(sample) int) float64 {
		t := 0
		for _, s := range ss {
			t += f(s)
		}
		return float64(t) / float64(len(ss))
	}
	k := max(1, min(3, len(after)/3))
	head, tail := after[:k], after[len(after)-k:]
	// Growth is judged only on the full run's 10-minute soak: in the
	// smoke run's 20 s, pools and caches still warming up look like growth
	// (its figures are reported, not judged), and the books still are.
	leakf := func(format string, args ...any) {
		if w.mode.name == "full" {
			t.Errorf(format, args...)
		} else {
			t.Logf("not judged in a %s run: "+format, append([]any{w.mode.name}, args...)...)
		}
	}
	var flat []string
	for _, name := range []string{"core", "commerce", "edge", "edge2"} {
		rss0 := avg(head, func(s sample) int { return s.procs[name].rssKiB }) / 1024
		rss1 := avg(tail, func(s sample) int { return s.procs[name].rssKiB }) / 1024
		fd0 := avg(head, func(s sample) int { return s.procs[name].fds })
		fd1 := avg(tail, func(s sample) int { return s.procs[name].fds })
		th0 := avg(head, func(s sample) int { return s.procs[name].threads })
		th1 := avg(tail, func(s sample) int { return s.procs[name].threads })
		if rss1 > rss0*1.25+16 {
			leakf("%s: RSS grew from %.0f MiB to %.0f MiB after the warm-up (allowed: +25 %% + 16 MiB)", name, rss0, rss1)
		}
		if fd1 > fd0+20 {
			leakf("%s: open files grew from %.0f to %.0f after the warm-up", name, fd0, fd1)
		}
		if th1 > th0+8 {
			leakf("%s: threads grew from %.0f to %.0f after the warm-up", name, th0, th1)
		}
		g0 := avg(head, func(s sample) int { return s.procs[name].goroutines })
		g1 := avg(tail, func(s sample) int { return s.procs[name].goroutines })
		if g0 < 0 || g1 < 0 {
			t.Errorf("%s: go_goroutines could not be read from %s", name, w.metrics[name])
		} else if g1 > g0*1.25+50 {
			leakf("%s: goroutines grew from %.0f to %.0f after the warm-up (allowed: +25 %% + 50)", name, g0, g1)
		}
		flat = append(flat, fmt.Sprintf("%s RSS %.0f→%.0f MiB, goroutines %.0f→%.0f, fds %.0f→%.0f, threads %.0f→%.0f", name, rss0, rss1, g0, g1, fd0, fd1, th0, th1))
	}
	db0, db1 := avg(head, func(s sample) int { return s.dbConns }), avg(tail, func(s sample) int { return s.dbConns })
	// Pools grow toward their ceilings under load; a leak keeps growing.
	if db1 > db0*1.1+5 {
		leakf("database connections grew from %.0f to %.0f after the warm-up (allowed: +10 %% + 5)", db0, db1)
	}
	ratio := 0.0
	if firstP99 > 0 {
		ratio = float64(lastP99) / float64(firstP99)
	}
	if w.mode.name == "full" && (nFirst == 0 || nLast == 0 || ratio > 1.5) {
		t.Errorf("p99 of the last %s %.1f ms (%d checkouts) vs the first after warm-up %.1f ms (%d): ratio %.2f, want ≤ 1.5",
			win, ms(lastP99), nLast, ms(firstP99), nFirst, ratio)
	}
	r.notes = append(r.notes, fmt.Sprintf("%.0f s; p99 first %s window %.1f ms, last %.1f ms (×%.2f); DB connections %.0f→%.0f; %s",
		w.mode.soak.Seconds(), win, ms(firstP99), ms(lastP99), ratio, db0, db1, strings.Join(flat, "; ")))
	return r
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
