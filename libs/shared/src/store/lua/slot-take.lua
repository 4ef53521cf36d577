-- SLOT_TAKE: admit a run of a tenant that has a cap on runs in flight, or make it wait (fair scheduling).
-- KEYS[1] tenant's runs in flight (zset: run -> admitted at)   KEYS[2] tenant's waiting runs (zset: run -> order)
-- KEYS[3] tenant's arrival counter
-- ARGV[1] run store id   ARGV[2] cap (runs in flight)   ARGV[3] priority (1 most urgent .. 10)   ARGV[4] now (ms)
-- A run already in flight keeps its slot and one already waiting keeps its place (a redelivered goal changes
-- nothing). A new run joins the waiting runs, ordered by priority, then arrival; then free slots are filled from the
-- head of the waiting runs, so a new run never passes one that waits with the same or a higher priority.
-- Returns {state of this run ('held' | 'admitted' | 'waiting'), ids admitted by this call...}.
-- @include slots-lib
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {'held'} end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  local seq = redis.call('INCR', KEYS[3])
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) * ORDER_STRIDE + seq, ARGV[1])
end
local admitted = fill(KEYS[1], KEYS[2], tonumber(ARGV[2]), ARGV[4])
local state = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 'admitted' or 'waiting'
local reply = {state}
for _, id in ipairs(admitted) do reply[#reply + 1] = id end
return reply
