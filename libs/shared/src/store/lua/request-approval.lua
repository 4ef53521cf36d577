-- REQUEST_APPROVAL: opens a step's approval gate once, with its event.
-- KEYS[1] approval   KEYS[2] pending approvals index   KEYS[3] run events   KEYS[4] run's other keys   KEYS[5] run record
-- ARGV[1] fields (JSON of strings)   ARGV[2] index member   ARGV[3] expiresAt (index score)   ARGV[4] event (JSON)
-- Returns 1 if opened, 0 if the gate existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[4])
-- Listed with the run, so it expires (or is deleted) with the run's data.
redis.call('SADD', KEYS[4], KEYS[1])
local ttl = redis.call('PTTL', KEYS[5])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) redis.call('PEXPIRE', KEYS[4], ttl) end
return 1
