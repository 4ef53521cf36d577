// Lua scripts of the run store. Each one checks and writes in one atomic step, so duplicated or
// redelivered jobs that race each other can never both move a run.

// All fields in one HSET: the same writes as one HSET per field, fewer commands for Redis to run.
const applyFieldsAndEvents = `
local function apply(runKey, eventsKey, fieldsJson, eventsJson)
  local pairsList = {}
  for k, v in pairs(cjson.decode(fieldsJson)) do
    pairsList[#pairsList + 1] = k
    pairsList[#pairsList + 1] = tostring(v)
  end
  if #pairsList > 0 then redis.call('HSET', runKey, unpack(pairsList)) end
  for _, e in ipairs(cjson.decode(eventsJson)) do redis.call('XADD', eventsKey, '*', 'e', e) end
end
`;

/** KEYS: run, events, index. ARGV: fields, events, createdAt, id. Returns 1 if created, 0 if the run existed. */
export const CREATE_RUN = `${applyFieldsAndEvents}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1`;

/** KEYS: run, events. ARGV: fields, events, expected iteration, expected phase. Returns 1 if moved. */
export const TRANSITION = `${applyFieldsAndEvents}
local cur = redis.call('HMGET', KEYS[1], 'status', 'iteration', 'phase')
if cur[1] ~= 'running' or cur[2] ~= ARGV[3] or cur[3] ~= ARGV[4] then return 0 end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return 1`;

/** KEYS: run, events. ARGV: fields, events. Ends a running run; returns 1 if it was running. */
export const FINISH = `${applyFieldsAndEvents}
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
apply(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: once, run, events. ARGV: value, events, usage increments, updatedAt.
 * Records a step's outcome exactly once; the loser of a race gets the winner's value back, the winner only {1} (it
 * has its value already). A zero increment is skipped: a usage field that is absent reads as 0.
 */
export const ONCE = `${applyFieldsAndEvents}
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return {0, redis.call('GET', KEYS[1])} end
apply(KEYS[2], KEYS[3], '{}', ARGV[2])
for k, v in pairs(cjson.decode(ARGV[3])) do
  if v ~= 0 then
    if k == 'costUsd' then redis.call('HINCRBYFLOAT', KEYS[2], 'usage.costUsd', string.format('%.10f', v))
    else redis.call('HINCRBY', KEYS[2], 'usage.' .. k, string.format('%d', v)) end
  end
end
redis.call('HSET', KEYS[2], 'updatedAt', ARGV[4])
return {1}`;

/**
 * KEYS: run, admitted. ARGV: step id, kind ('tool' | 'model'), now (ms), reserve ('1' | '0').
 * The one place where a step is admitted against the run's budget. Checking and reserving in one atomic step is
 * what keeps any number of racing executors within the limits: a tool step reserves one of `maxToolCalls` (counted
 * in usage.toolCalls at once), so the limit can never be passed. A model call has no cost until it replies, so it is
 * only refused when the recorded usage is already at or over maxTokens / maxCostUsd; it reserves nothing, so every
 * delivery of its step is checked again. A tool step admitted before (a redelivery) holds its reservation and is not
 * charged again. With reserve '0' a tool step is only checked.
 * Returns {1, 'admitted' | 'held' | 'checked'}, {0, 'ended', status}, or {0, limit, used, max}.
 * (Per-tenant daily caps belong here too, as more KEYS reserved in the same step.)
 */
export const ADMIT = `
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
local run = redis.call('HMGET', KEYS[1], 'status', 'request', 'createdAt',
  'usage.inputTokens', 'usage.outputTokens', 'usage.costUsd', 'usage.toolCalls')
if run[1] ~= 'running' then return {0, 'ended', run[1] or 'gone'} end
-- A tool step keeps the call it reserved (the ledger makes a repeat the same call); a model call reserves nothing,
-- so every delivery of its step is checked again.
if ARGV[2] == 'tool' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {1, 'held'} end
local budget = run[2] and cjson.decode(run[2]).budget
local refused = budget and refusal(budget, run, tonumber(ARGV[3]), ARGV[2])
if refused then return refused end
if ARGV[2] ~= 'tool' or ARGV[4] ~= '1' then return {1, 'checked'} end
redis.call('HINCRBY', KEYS[1], 'usage.toolCalls', 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
return {1, 'admitted'}`;
