-- SEED: gives a new fork or replay its history, once: ledger entries (set if absent), copied events, and its start.
-- KEYS[1] run record   KEYS[2] run events   KEYS[3] run ledger (one slot: all carry the run's hash tag)
-- ARGV[1] ledger entries (JSON object: name -> value)   ARGV[2] events (JSON list)   ARGV[3] fields (JSON of strings)
-- Returns 1 if this call seeded the run, 0 if it was seeded before, is gone, or is no longer at its first iteration.
-- @include lib
local run = redis.call('HMGET', KEYS[1], 'status', 'iteration', 'seeded')
if run[1] ~= 'running' or run[2] ~= '1' or run[3] then return 0 end
for name, value in pairs(cjson.decode(ARGV[1])) do redis.call('HSETNX', KEYS[3], name, value) end
keepWithRun(KEYS[1], KEYS[3])
apply(KEYS[1], KEYS[2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[1], 'seeded', '1')
return 1
