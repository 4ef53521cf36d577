-- RETIRE: an ended run's data expires after the retention (ttl > 0) or goes at once (ttl 0).
-- KEYS[1] run record   KEYS[2] run events   KEYS[3] run ledger   KEYS[4] admitted tool steps   KEYS[5] run memory
-- KEYS[6] the run's other keys (its approval gates), a set
-- ARGV[1] ttl (ms; 0 deletes)
-- Returns 1, or 0 (nothing changed) if the run is still running.
if redis.call('HGET', KEYS[1], 'status') == 'running' then return 0 end
local ttl = tonumber(ARGV[1])
local function retire(key)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) else redis.call('DEL', key) end
end
for _, key in ipairs(redis.call('SMEMBERS', KEYS[6])) do retire(key) end
for i = 1, 6 do retire(KEYS[i]) end
return 1
