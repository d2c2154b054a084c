-- Token bucket, one atomic step. Mirrors bucketMath in ratelimit.go.
-- KEYS[1]  hash: t = tokens (float), ts = when t was stored (µs, Redis clock)
-- ARGV[1]  rate, tokens per second (> 0)
-- ARGV[2]  burst, bucket size (≥ 1)
-- ARGV[3]  n, tokens to take (1..burst)
-- Returns {allowed 0|1, remaining whole tokens, reset µs, retry-after µs}.
-- Time comes from Redis, so replicas with skewed clocks agree. The key
-- expires when the bucket would be full again: an idle bucket vanishes,
-- which is the same as a full one.
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local EPS = 1e-9
local MAXUS = 9e15 -- cap on returned durations (~285 years), keeps integers exact

local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])

local st = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(st[1])
local ts = tonumber(st[2])
local last = now_us
if tokens == nil or ts == nil then
  tokens = burst
else
  if now_us > ts then
    tokens = tokens + (now_us - ts) * rate / 1e6
  else
    last = ts -- Redis clock went back (failover): no refill, keep the later time
  end
end
if tokens > burst then tokens = burst end

local allowed = 0
local retry = 0
if tokens + EPS >= n then
  allowed = 1
  tokens = tokens - n
  if tokens < 0 then tokens = 0 end
  local ttl_ms = math.min(math.ceil((burst - tokens) * 1000 / rate), MAXUS / 1000)
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%.0f', last))
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl_ms))
else
  retry = math.min(math.ceil((n - tokens) * 1e6 / rate), MAXUS)
end
local reset = math.min(math.ceil((burst - tokens) * 1e6 / rate), MAXUS)
return {allowed, math.floor(tokens + EPS), reset, retry}
