-- Helpers included (by `-- @include memory-lib`) into the scripts that change a tenant's semantic memory.
-- An entry's key is the entry key prefix (TriadKeys.memoryEntry(tenant, '')) followed by its id; the set of a source
-- run's entries is the run key prefix (TriadKeys.memoryBySourceRun(tenant, '')) followed by the run id. Every key of
-- a tenant's memory carries the tenant's hash tag, so they share one cluster slot.

-- Appends a change to the tenant's change log, trimmed to about `maxLen` entries (a replica that has applied fewer
-- changes than the log has dropped, XINFO's entries-added minus its length, reloads the tenant: see MemoryStore).
local function logChange(logKey, maxLen, op, id, value)
  if value then
    redis.call('XADD', logKey, 'MAXLEN', '~', maxLen, '*', 'op', op, 'id', id, 'v', value)
  else
    redis.call('XADD', logKey, 'MAXLEN', '~', maxLen, '*', 'op', op, 'id', id)
  end
end

-- Removes one entry, its place in the tenant's indexes and in its source run's set, and logs the removal.
-- Returns 1 when there was such an entry, else 0 (nothing logged).
local function removeEntry(entryPrefix, runPrefix, createdKey, expiresKey, logKey, maxLen, id)
  local entryKey = entryPrefix .. id
  local runId = redis.call('HGET', entryKey, 'runId')
  local indexed = redis.call('ZREM', createdKey, id)
  redis.call('ZREM', expiresKey, id)
  if runId and runId ~= '' then redis.call('SREM', runPrefix .. runId, id) end
  local existed = redis.call('DEL', entryKey)
  if indexed == 0 and existed == 0 then return 0 end
  logChange(logKey, maxLen, 'del', id)
  return 1
end
