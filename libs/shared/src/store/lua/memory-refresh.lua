-- MEMORY-REFRESH: a near-duplicate of an entry was written: the entry lives on (its expiry pushed, never pulled in)
-- and counts one more hit.
-- KEYS[1] the entry (a hash)   KEYS[2] ids by expiry   KEYS[3] change log
-- ARGV[1] id   ARGV[2] change log bound   ARGV[3] new expiresAt
-- Returns { expiresAt, hits } of the entry, or false when it is gone (the caller stores the write as new).
-- @include memory-lib
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local expiresAt = math.max(tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) or 0, tonumber(ARGV[3]))
local value = string.format('%d', expiresAt)
redis.call('HSET', KEYS[1], 'expiresAt', value)
local hits = redis.call('HINCRBY', KEYS[1], 'hits', 1)
redis.call('ZADD', KEYS[2], value, ARGV[1])
logChange(KEYS[3], ARGV[2], 'exp', ARGV[1], value)
return { value, hits }
