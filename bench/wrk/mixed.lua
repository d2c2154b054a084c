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

-- The BENCH summary line, from summary.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "summary.lua")
