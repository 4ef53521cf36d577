-- SETTLE-SPEND: after a model call (replied or failed), releases its reservation and adds what it really used.
-- KEYS[1] the tenant's usage hash of the reservation's day   KEYS[2] reservation deadlines   KEYS[3] reservation amounts
-- ARGV[1] reservation id   ARGV[2] the reservation's day   ARGV[3] tokens used   ARGV[4] cost (nano-USD)
-- ARGV[5] time to live of the usage hash (s)
-- A reservation already released (past its deadline) is not released twice; the usage is added all the same: the
-- call happened. Returns 1 when the reservation was still held, else 0.
-- @include spend-lib
local held = release(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'costNano', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'modelCalls', 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
if held then return 1 end
return 0
