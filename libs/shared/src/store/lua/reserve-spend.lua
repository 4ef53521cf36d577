-- RESERVE-SPEND: reserves an upper bound of one model call's tokens and cost against its tenant's daily caps,
-- atomically across every replica (one slot: the keys share the tenant's hash tag).
-- KEYS[1] the tenant's usage hash of today   KEYS[2] reservation deadlines (id -> ms)   KEYS[3] reservation amounts
-- ARGV[1] reservation id   ARGV[2] now (ms)   ARGV[3] deadline (ms)   ARGV[4] today (YYYY-MM-DD)
-- ARGV[5] tokens   ARGV[6] cost (nano-USD)   ARGV[7] maxTokensPerDay ('' none)   ARGV[8] maxCostUsdPerDay in nano-USD
-- ('' none)   ARGV[9] time to live of the keys (s)
-- Reservations past their deadline (a process that crashed between reserve and settle) are released first, so a
-- crash never holds a tenant's day. A reservation id already held (a redelivered stage) is not reserved again.
-- A call is refused when spent + reserved + this call would cross a cap; when spent + this call alone would, the day
-- is marked `exhausted` (new goals are refused), else the call may wait for those in flight to settle. Amounts are integers (tokens, nano-USD), so sums are exact.
-- Returns {1, 'reserved' | 'held'}, or {0, limit, spent, reserved, this call, exhausted (1 | 0)}.
-- @include spend-lib
local now = tonumber(ARGV[2])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  release(KEYS[1], KEYS[2], KEYS[3], id, ARGV[4])
  redis.call('ZREM', KEYS[2], id) -- also a deadline whose amounts are gone
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  return {1, 'held'}
end
local u = redis.call('HMGET', KEYS[1], 'tokens', 'costNano', 'reservedTokens', 'reservedCostNano')
local tokens, cost = tonumber(ARGV[5]), tonumber(ARGV[6])
local checks = {
  {'maxTokensPerDay', ARGV[7], tonumber(u[1] or '0'), tonumber(u[3] or '0'), tokens},
  {'maxCostUsdPerDay', ARGV[8], tonumber(u[2] or '0'), tonumber(u[4] or '0'), cost},
}
for _, c in ipairs(checks) do
  if c[2] ~= '' then
    local max = tonumber(c[2])
    if c[3] + c[4] + c[5] > max then
      local exhausted = 0
      if c[3] + c[5] > max then
        redis.call('HSET', KEYS[1], 'exhausted', c[1])
        exhausted = 1
      end
      return {0, c[1], tostring(c[3]), tostring(c[4]), tostring(c[5]), exhausted}
    end
  end
end
redis.call('HINCRBY', KEYS[1], 'reservedTokens', tokens)
redis.call('HINCRBY', KEYS[1], 'reservedCostNano', cost)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[9]) end
return {1, 'reserved'}
