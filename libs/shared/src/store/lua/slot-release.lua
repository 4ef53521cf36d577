-- SLOT_RELEASE: a run of a tenant with a cap on runs in flight has ended (or never existed): it gives back its slot,
-- or its place among the waiting runs; then free slots are filled from the head of the waiting runs.
-- KEYS[1] tenant's runs in flight (zset: run -> admitted at)   KEYS[2] tenant's waiting runs (zset: run -> order)
-- ARGV[1] run store id ('' to only fill free slots)   ARGV[2] cap (runs in flight)   ARGV[3] now (ms)
-- Releasing twice frees one slot: the second call finds nothing to remove.
-- Returns the ids admitted by this call (their runs are to be started by the caller; a planner's sweep starts those
-- of a caller that died first).
-- @include slots-lib
if ARGV[1] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return fill(KEYS[1], KEYS[2], tonumber(ARGV[2]), ARGV[3])
