-- UNQUEUE: a waiting run was given a slot: it moves from (1, queued) to (1, plan), once.
-- KEYS[1] run record   KEYS[2] run events
-- ARGV[1] fields (JSON of strings)   ARGV[2] events (JSON list)
-- Returns {1} if this call moved it, else {0, status or 'gone', phase}.
-- @include lib
local run = redis.call('HMGET', KEYS[1], 'status', 'phase')
if run[1] ~= 'running' or run[2] ~= 'queued' then return {0, run[1] or 'gone', run[2] or ''} end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return {1}
