-- MEMORY-SWEEP: removes a batch of a tenant's entries past their expiry (call again while it returns the batch size).
-- KEYS[1] ids by creation   KEYS[2] ids by expiry   KEYS[3] change log
-- ARGV[1] entry key prefix   ARGV[2] run key prefix   ARGV[3] change log bound   ARGV[4] now (epoch ms)
-- ARGV[5] batch size
-- Returns how many ids were past their expiry (each removal logged).
-- @include memory-lib
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(ids) do
  removeEntry(ARGV[1], ARGV[2], KEYS[1], KEYS[2], KEYS[3], ARGV[3], id)
end
return #ids
