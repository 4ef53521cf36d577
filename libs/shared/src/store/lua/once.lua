-- ONCE: records a step's outcome exactly once, with its events and usage, in one atomic step.
-- KEYS[1] once value   KEYS[2] run record   KEYS[3] run events
-- ARGV[1] value (JSON)   ARGV[2] events (JSON list)   ARGV[3] usage increments (JSON)   ARGV[4] updatedAt
-- Returns {1} to the winner (it has its value already), {0, recorded value} to the loser of a race.
-- @include lib
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return {0, redis.call('GET', KEYS[1])} end
apply(KEYS[2], KEYS[3], '{}', ARGV[2])
addUsage(KEYS[2], ARGV[3])
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[4])
return {1}
