-- Helpers included (by `-- @include spend-lib`) into the spend scripts.

-- Gives back reservation `id` (stored as `<day> <tokens> <cost nano-USD>`): its amounts leave the usage hash when
-- they were reserved on `day` (that hash), and the reservation is forgotten. Returns whether it was still held.
local function release(usageKey, deadlinesKey, amountsKey, id, day)
  local held = redis.call('HGET', amountsKey, id)
  if not held then return false end
  local heldDay, tokens, cost = string.match(held, '^(%S+) (%d+) (%d+)$')
  if heldDay == day then
    -- A negative amount is written `0 - x`: -x of 0 is "-0", which HINCRBY refuses.
    redis.call('HINCRBY', usageKey, 'reservedTokens', 0 - tonumber(tokens))
    redis.call('HINCRBY', usageKey, 'reservedCostNano', 0 - tonumber(cost))
  end
  redis.call('ZREM', deadlinesKey, id)
  redis.call('HDEL', amountsKey, id)
  return true
end
