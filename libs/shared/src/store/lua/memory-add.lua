-- MEMORY-ADD: stores a new entry of a tenant's semantic memory and evicts the tenant's oldest past its cap.
-- KEYS[1] id counter   KEYS[2] ids by creation (a sorted set, score: the id's number)   KEYS[3] ids by expiry
-- KEYS[4] change log (a stream)
-- ARGV[1] entry key prefix   ARGV[2] run key prefix   ARGV[3] change log bound   ARGV[4] cap (entries kept at most)
-- ARGV[5] most evictions in this call   ARGV[6] expiresAt   ARGV[7] source run id ('' for none)
-- ARGV[8..] the entry hash's fields and values
-- Returns { id, evicted id... }: the new id (`m<n>`) and the ids evicted to stay within the cap, each logged.
-- @include memory-lib
local n = redis.call('INCR', KEYS[1])
local id = 'm' .. n
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', ARGV[1] .. id, unpack(fields))
redis.call('ZADD', KEYS[2], n, id)
redis.call('ZADD', KEYS[3], ARGV[6], id)
if ARGV[7] ~= '' then redis.call('SADD', ARGV[2] .. ARGV[7], id) end
logChange(KEYS[4], ARGV[3], 'add', id)

local result = { id }
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, math.min(over, tonumber(ARGV[5])) - 1)
  for _, old in ipairs(oldest) do
    if removeEntry(ARGV[1], ARGV[2], KEYS[2], KEYS[3], KEYS[4], ARGV[3], old) == 1 then result[#result + 1] = old end
  end
end
return result
