-- ADMIT: the one place where a step is admitted against its run's budget, atomically across every replica.
-- KEYS[1] run record   KEYS[2] admitted tool steps (step id -> when reserved)
-- ARGV[1] step id   ARGV[2] kind ('tool' | 'model')   ARGV[3] now (ms)   ARGV[4] reserve ('1' | '0')
-- A tool step reserves one of maxToolCalls (counted in usage.toolCalls at once), so racing executors can never pass
-- the limit; a redelivered tool step holds its reservation and is not charged again. A model call has no cost until
-- it replies: it reserves nothing and is refused only when the recorded tokens, cost or time are used up, so every
-- delivery of its step is checked again (the loop makes the same check in TypeScript on the record a model stage
-- reads, see usedUpLimit in runs/budget.ts). With reserve '0' a tool step is only checked.
-- Returns {1, 'admitted' | 'held' | 'checked'}, {0, 'ended', status}, or {0, limit, used, max}.
-- (Per-tenant daily caps belong here too, as more KEYS reserved in the same step.)
local function refusal(budget, run, now, kind)
  local tokens = tonumber(run[4] or '0') + tonumber(run[5] or '0')
  if tokens >= budget.maxTokens then return {0, 'maxTokens', tostring(tokens), tostring(budget.maxTokens)} end
  local cost = tonumber(run[6] or '0')
  if budget.maxCostUsd ~= cjson.null and cost >= budget.maxCostUsd then
    return {0, 'maxCostUsd', tostring(cost), tostring(budget.maxCostUsd)}
  end
  local age = now - tonumber(run[3])
  if age >= budget.timeoutMs then return {0, 'timeoutMs', tostring(age), tostring(budget.timeoutMs)} end
  local calls = tonumber(run[7] or '0')
  if kind == 'tool' and calls >= budget.maxToolCalls then
    return {0, 'maxToolCalls', tostring(calls), tostring(budget.maxToolCalls)}
  end
  return nil
end
local run = redis.call('HMGET', KEYS[1], 'status', 'budget', 'createdAt',
  'usage.inputTokens', 'usage.outputTokens', 'usage.costUsd', 'usage.toolCalls')
if run[1] ~= 'running' then return {0, 'ended', run[1] or 'gone'} end
if ARGV[2] == 'tool' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {1, 'held'} end
-- The budget field; a run created before it existed has its budget in its request only.
local budget
if run[2] then budget = cjson.decode(run[2]) else
  local request = redis.call('HGET', KEYS[1], 'request')
  budget = request and cjson.decode(request).budget
end
local refused = budget and refusal(budget, run, tonumber(ARGV[3]), ARGV[2])
if refused then return refused end
if ARGV[2] ~= 'tool' or ARGV[4] ~= '1' then return {1, 'checked'} end
redis.call('HINCRBY', KEYS[1], 'usage.toolCalls', 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return {1, 'admitted'}
