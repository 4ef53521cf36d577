-- CREATE_RUN: creates a run record with its first events, once per run id.
-- KEYS[1] run record   KEYS[2] run events   KEYS[3] run index
-- ARGV[1] fields (JSON of strings)   ARGV[2] events (JSON list)   ARGV[3] createdAt (index score)   ARGV[4] run id
-- Returns 1 if created, 0 if the run existed (nothing changed).
-- @include lib
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
