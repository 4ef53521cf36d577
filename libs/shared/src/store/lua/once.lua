-- ONCE: records a step's outcome exactly once, with its events and usage, in one atomic step.
-- KEYS[1] run ledger (a hash by name)   KEYS[2] run record   KEYS[3] run events
-- ARGV[1] value (JSON)   ARGV[2] events (JSON list)   ARGV[3] usage increments (JSON)   ARGV[4] updatedAt   ARGV[5] name
-- Returns {1} to the winner (it has its value already), {0, recorded value} to the loser of a race, {-1} when the run
-- is gone (deleted or retired): nothing is written, so a late step cannot bring back keys of a removed run.
-- @include lib
if redis.call('EXISTS', KEYS[2]) == 0 then return {-1} end
if redis.call('HSETNX', KEYS[1], ARGV[5], ARGV[1]) == 0 then return {0, redis.call('HGET', KEYS[1], ARGV[5])} end
keepWithRun(KEYS[2], KEYS[1])
apply(KEYS[2], KEYS[3], '{}', ARGV[2])
addUsage(KEYS[2], ARGV[3])
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[4])
return {1}
