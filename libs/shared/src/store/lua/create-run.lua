-- CREATE_RUN: creates a run record with its first events, once per run id.
-- KEYS[1] run record   KEYS[2] run events (one slot: both carry the run's hash tag)
-- ARGV[1] fields (JSON of strings)   ARGV[2] events (JSON list)
-- Returns 1 if created, 0 if the run existed (nothing changed).
-- The tenant's run index (another slot on a Redis Cluster) is not touched here: RunStore adds the run to it first.
-- @include lib
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return 1
