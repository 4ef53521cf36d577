-- DECIDE_APPROVAL: records the decision of a pending gate once, with its event.
-- KEYS[1] approval   KEYS[2] run events (one slot: both carry the run's hash tag)
-- ARGV[1] fields (JSON of strings)   ARGV[2] event (JSON)
-- Returns 1 if it was pending (and is decided now), 0 otherwise.
-- The tenant's pending approvals index (another slot on a Redis Cluster) is not touched here: ApprovalStore removes
-- the gate from it afterwards.
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
return 1
