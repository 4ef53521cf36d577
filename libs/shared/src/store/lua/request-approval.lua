-- REQUEST_APPROVAL: opens a step's approval gate once, with its event.
-- KEYS[1] approval   KEYS[2] pending approvals index   KEYS[3] run events
-- ARGV[1] fields (JSON of strings)   ARGV[2] index member   ARGV[3] expiresAt (index score)   ARGV[4] event (JSON)
-- Returns 1 if opened, 0 if the gate existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[4])
return 1
