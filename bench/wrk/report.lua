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

-- The BENCH summary line, from summary.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "summary.lua")
