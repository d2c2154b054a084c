-- The summary line every wrk script of the benches prints after wrk's own
-- report, which scripts/bench.sh and scripts/bench-search.sh parse: one
-- machine-readable line. Loaded by report.lua and mixed.lua (dofile).
--
-- done runs once, in wrk's main thread, with every thread's statistics
-- merged. Latencies are in microseconds; summary.errors.status counts
-- responses with a status of 400 or more ("Non-2xx or 3xx responses").
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "err_status=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
