-- Helpers included (by `-- @include slots-lib`) into the fair-scheduling scripts.

-- A waiting run's score: priority * ORDER_STRIDE + arrival number (exact in a double up to 10 * 1e12).
local ORDER_STRIDE = 1e12

-- Moves waiting runs, head first, into the runs in flight while there are fewer than `cap`; returns the moved ids.
local function fill(inFlightKey, waitingKey, cap, now)
  local moved = {}
  local free = cap - redis.call('ZCARD', inFlightKey)
  if free <= 0 then return moved end
  local head = redis.call('ZPOPMIN', waitingKey, free)
  for i = 1, #head, 2 do
    redis.call('ZADD', inFlightKey, now, head[i])
    moved[#moved + 1] = head[i]
  end
  return moved
end
