-- Helpers included (by `-- @include lib`) into the scripts that write a run.

-- A key written for a run whose data is already set to expire (see retire.lua) expires with the run record, so a late
-- write (a racing duplicate stage) never leaves a key behind.
local function keepWithRun(runKey, key)
  local ttl = redis.call('PTTL', runKey)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end

-- Sets the fields (a JSON object of strings) in one HSET and appends the events (a JSON list of JSON strings).
local function apply(runKey, eventsKey, fieldsJson, eventsJson)
  local pairsList = {}
  for k, v in pairs(cjson.decode(fieldsJson)) do
    pairsList[#pairsList + 1] = k
    pairsList[#pairsList + 1] = tostring(v)
  end
  if #pairsList > 0 then redis.call('HSET', runKey, unpack(pairsList)) end
  for _, e in ipairs(cjson.decode(eventsJson)) do redis.call('XADD', eventsKey, '*', 'e', e) end
  keepWithRun(runKey, eventsKey)
end

-- Adds usage increments (a JSON object of numbers) to the run's usage.* fields; a zero is skipped, since an absent
-- field reads as 0.
local function addUsage(runKey, usageJson)
  for k, v in pairs(cjson.decode(usageJson)) do
    if v ~= 0 then
      if k == 'costUsd' then redis.call('HINCRBYFLOAT', runKey, 'usage.costUsd', string.format('%.10f', v))
      else redis.call('HINCRBY', runKey, 'usage.' .. k, string.format('%d', v)) end
    end
  end
end
