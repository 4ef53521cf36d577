-- REMEMBER: the memory tools' write; a scope holds a bounded number of entries.
-- KEYS[1] memory scope (a hash)
-- ARGV[1] entry key   ARGV[2] entry (JSON)   ARGV[3] most entries the scope may hold
-- Returns 1 if stored, 0 if the key is new and the scope is full (replacing an existing entry is always allowed).
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
