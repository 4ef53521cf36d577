-- ADVANCE: a stage's whole write in one atomic step. Records the stage's outcome once (with its events and usage),
-- then moves the run from where the stage found it: to the next position, or to its end. Duplicated or redelivered
-- stages that race can never both move a run, and a stage that died between recording and moving is completed by
-- its redelivery, which brings the recorded value again.
-- KEYS[1] run ledger (a hash by name)   KEYS[2] run record   KEYS[3] run events
-- ARGV[1] value (JSON)   ARGV[2] its events (JSON list)   ARGV[3] usage increments (JSON)   ARGV[4] now (ms)
-- ARGV[5] expected iteration   ARGV[6] expected phases (comma-separated)   ARGV[7] 'move' | 'finish'
-- ARGV[8] fields to set (JSON of strings)   ARGV[9] events of the move (JSON list)   ARGV[10] name in the ledger
-- Returns {recorded, outcome, ...}: recorded is 1 when this call recorded the value; outcome is
--   'lost', winner     another value was recorded first (nothing moved; advance with the winner)
--   'ended', status    the run had ended (or is gone)
--   'elsewhere', iteration, phase   the run is not where the stage found it (it moved on, or never got there)
--   'moved'            the run moved
--   'finished', record as HGETALL's flat list   the run ended here
-- @include lib
local recorded = 0
if redis.call('HSETNX', KEYS[1], ARGV[10], ARGV[1]) == 1 then
  recorded = 1
  keepWithRun(KEYS[2], KEYS[1])
  apply(KEYS[2], KEYS[3], '{"updatedAt":"' .. ARGV[4] .. '"}', ARGV[2])
  addUsage(KEYS[2], ARGV[3])
else
  local winner = redis.call('HGET', KEYS[1], ARGV[10])
  if winner ~= ARGV[1] then return {0, 'lost', winner} end
end
local cur = redis.call('HMGET', KEYS[2], 'status', 'iteration', 'phase')
if cur[1] ~= 'running' then return {recorded, 'ended', cur[1] or 'gone'} end
local expected = false
for phase in string.gmatch(ARGV[6], '[^,]+') do
  if phase == cur[3] then expected = true end
end
if cur[2] ~= ARGV[5] or not expected then return {recorded, 'elsewhere', cur[2], cur[3]} end
apply(KEYS[2], KEYS[3], ARGV[8], ARGV[9])
if ARGV[7] == 'finish' then return {recorded, 'finished', redis.call('HGETALL', KEYS[2])} end
return {recorded, 'moved'}
