-- MEMORY-CHANGES: where a tenant's change log stands, and the changes after a replica's cursor.
-- KEYS[1] change log (a stream)
-- ARGV[1] cursor (a stream id; '' for none: only where the log stands)   ARGV[2] most changes returned
-- Returns { last-generated-id, entries-added, length, changes } ('0-0', 0, 0 when there is no log). Trimming takes
-- changes from the head of the log, so a replica that has applied `n` of the `entries-added` changes has missed some
-- when n < entries-added - length; and entries-added below n means the log was removed and started again.
if redis.call('EXISTS', KEYS[1]) == 0 then return { '0-0', 0, 0, {} } end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, added, length = '0-0', 0, 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1]
  elseif info[i] == 'entries-added' then added = info[i + 1]
  elseif info[i] == 'length' then length = info[i + 1] end
end
local changes = {}
-- (XRANGE with COUNT 0 answers nil, which would cut the reply short.)
if ARGV[1] ~= '' and tonumber(ARGV[2]) > 0 then
  changes = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
end
return { last, added, length, changes }
