-- wrk script for scripts/bench-search.sh: a mixed load that rotates through
-- a list of POST requests (Connect JSON), then prints the same summary line
-- as report.lua.
--
-- Environment:
--   WRK_REQUESTS  a file of requests, one a line: PATH, a tab, the JSON body
--                 (e.g. /emporium.product.v1.ProductService/GetProduct	{"slug":"x"})
--
-- The requests are built once per thread; each thread starts at another
-- place in the list, so the connections do not ask for the same thing at
-- the same moment.

local pool = {}
local next_request = 1

local function load()
  local path = os.getenv("WRK_REQUESTS")
  if path == nil or path == "" then
    error("WRK_REQUESTS is not set")
  end
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(path) do
    local target, body = line:match("^([^\t]+)\t(.*)$")
    if target ~= nil then
      pool[#pool + 1] = wrk.format("POST", target, headers, body)
    end
  end
  if #pool == 0 then
    error("no requests in " .. path)
  end
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 37)
end

function init(args)
  load()
  next_request = ((offset or 0) % #pool) + 1
end

function request()
  local r = pool[next_request]
  next_request = next_request % #pool + 1
  return r
end

-- As in report.lua: one machine-readable line, latencies in microseconds;
-- summary.errors.status counts responses with a status of 400 or more.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "err_status=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
