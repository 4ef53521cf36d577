-- FINISH: ends a running run (the first ending wins).
-- KEYS[1] run record   KEYS[2] run events
-- ARGV[1] fields (JSON of strings)   ARGV[2] events (JSON list)
-- Returns {1, record as HGETALL's flat list} if this call ended the run (so the caller can publish the result
-- without reading it back), or {0} if it had ended before.
-- @include lib
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return {0} end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return {1, redis.call('HGETALL', KEYS[1])}
