-- MEMORY-DELETE: removes entries of a tenant's semantic memory by id.
-- KEYS[1] ids by creation   KEYS[2] ids by expiry   KEYS[3] change log
-- ARGV[1] entry key prefix   ARGV[2] run key prefix   ARGV[3] change log bound   ARGV[4..] ids
-- Returns how many existed (each removal is logged).
-- @include memory-lib
local removed = 0
for i = 4, #ARGV do
  removed = removed + removeEntry(ARGV[1], ARGV[2], KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[i])
end
return removed
