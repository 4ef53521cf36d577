// Lua scripts of the approval store: a gate is opened once and decided once, each with its event, atomically.

/** KEYS: approval, pending index, events. ARGV: fields (JSON of strings), index member, expiresAt, event. */
export const REQUEST_APPROVAL = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[4])
return 1`;

/** KEYS: approval, pending index, events. ARGV: fields (JSON of strings), index member, event. 1 if it was pending. */
export const DECIDE_APPROVAL = `
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
for k, v in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return 1`;
