-- wrk script for scripts/bench.sh: sends one fixed request and prints one
-- machine-readable summary line after wrk's own human-readable report.
--
-- Environment:
--   WRK_METHOD        GET (default) or POST
--   WRK_BODY          request body (POST), e.g. {"slug":"a-product"}
--   WRK_CONTENT_TYPE  Content-Type of the body (default application/json)
--   WRK_AUTH          a bearer token to send as Authorization, if set
--
-- The request is built once (no per-request Lua), so the script costs the
-- load generator nothing while it runs.

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
end

local auth = os.getenv("WRK_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

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
