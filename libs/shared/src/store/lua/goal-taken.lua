-- GOAL_TAKEN: intake took in a goal job that was enqueued with a fair priority (see GoalBacklog): one fewer waits.
-- KEYS[1] the tenant's goal backlog (a counter)
-- Never below 0: a goal job taken in twice (a stalled intake) must not leave the counter owing.
-- Returns the backlog left.
local left = redis.call('DECR', KEYS[1])
if left < 0 then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
  return 0
end
return left
