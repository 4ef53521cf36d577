-- REQUEST_APPROVAL: opens a step's approval gate once, with its event.
-- KEYS[1] approval   KEYS[2] run events   KEYS[3] run's other keys   KEYS[4] run record (one slot: all carry the run's
-- hash tag)
-- ARGV[1] fields (JSON of strings)   ARGV[2] event (JSON)
-- Returns 1 if opened, 0 if the gate existed.
-- The tenant's pending approvals index (another slot on a Redis Cluster) is not touched here: ApprovalStore adds the
-- gate to it first.
-- @include lib
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
-- Listed with the run, so it expires (or is deleted) with the run's data.
redis.call('SADD', KEYS[3], KEYS[1])
keepWithRun(KEYS[4], KEYS[1])
keepWithRun(KEYS[4], KEYS[3])
return 1
