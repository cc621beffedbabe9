#!lua flags=allow-oom
-- delete-4: an operator deletes a finished (SUCCESS or FAILURE) task: its hash and its index
-- entries go at once, before its retention ends. A task still WAITING or RUNNING is refused
-- (cancel it first), so that no queue entry or lease is left pointing at nothing.
-- allow-oom: it frees memory.
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:succeeded  list of SUCCESS tasks, "<finished_at>:<id>"
-- KEYS[3] taskpool:{T}:failed     sorted set of FAILURE tasks
-- KEYS[4] taskpool:{T}:unique:    prefix of the unique keys: a deleted task frees its key (held
--                                 `unique_for` after its end) at once
-- ARGV[1] id
-- ARGV[2] event channel taskpool:{T}:events:<id>
-- ARGV[3] the event message {"event":"deleted",...}
-- ARGV[4] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[5] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE, status it had}, or, writing nothing: {TASK_MISSING} the task does not exist (never added, or
-- expired), {WRONG_STATUS, status} it has not finished.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ...".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
local fields = redis.pcall('HMGET', KEYS[1], 'status', 'finished_at', 'key')
if fields.err then return readFailed(KEYS[1], 'hash', fields) end
local status = fields[1]
if not status then
  -- A hash without a status is no task taskpool wrote; it is not deleted blindly.
  if redis.call('EXISTS', KEYS[1]) == 0 then return {REPLY.TASK_MISSING} end
  return {REPLY.WRONG_STATUS, 'without status'}
end
if status ~= 'SUCCESS' and status ~= 'FAILURE' then return {REPLY.WRONG_STATUS, status} end
local problem = wrongType(KEYS[2], 'list') or wrongType(KEYS[3], 'zset')
if problem then return problem end
redis.call('DEL', KEYS[1])
if fields[3] and redis.pcall('GET', KEYS[4] .. fields[3]) == ARGV[1] then redis.call('DEL', KEYS[4] .. fields[3]) end
-- Its `succeeded` entry names its finish time (a FAILURE task has none: LREM finds nothing).
if fields[2] then redis.call('LREM', KEYS[2], -1, fields[2] .. ':' .. ARGV[1]) end
redis.call('ZREM', KEYS[3], ARGV[1])
publishTo(ARGV[4], ARGV[2], ARGV[5], ARGV[3])
return {REPLY.DONE, status}
