-- DECIDE_APPROVAL: records the decision of a pending gate once, with its event.
-- KEYS[1] approval   KEYS[2] pending approvals index   KEYS[3] run events
-- ARGV[1] fields (JSON of strings)   ARGV[2] index member   ARGV[3] event (JSON)
-- Returns 1 if it was pending (and is decided now), 0 otherwise.
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return 1
