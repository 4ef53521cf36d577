-- MEMORY-DELETE-RUN: removes a batch of the entries a run wrote (call again until it returns 0).
-- KEYS[1] ids by creation   KEYS[2] ids by expiry   KEYS[3] change log   KEYS[4] the run's ids (a set)
-- ARGV[1] entry key prefix   ARGV[2] run key prefix   ARGV[3] change log bound   ARGV[4] batch size
-- Returns { removed, taken }: how many entries were removed (each logged) and how many ids the batch took (0: done).
-- @include memory-lib
local ids = redis.call('SRANDMEMBER', KEYS[4], tonumber(ARGV[4]))
local removed = 0
for _, id in ipairs(ids) do
  removed = removed + removeEntry(ARGV[1], ARGV[2], KEYS[1], KEYS[2], KEYS[3], ARGV[3], id)
  -- An id whose entry was already gone is dropped from the set all the same.
  redis.call('SREM', KEYS[4], id)
end
return { removed, #ids }
