-- FORGET_RESULTS_QUEUE: unregisters a producer's results queue if no result was published there since a time.
-- KEYS[1] the registry of results queues (a sorted set: name -> last publish)
-- ARGV[1] queue name   ARGV[2] the time (ms) before which its last publish must be
-- Returns 1 if removed, 0 if it was published to meanwhile (or is not registered).
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if last and tonumber(last) < tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
