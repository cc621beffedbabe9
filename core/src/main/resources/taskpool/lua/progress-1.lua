#!lua flags=allow-oom
-- progress-1: record the progress of a task and publish it.
-- allow-oom: a run's progress is part of finishing queued work (see finish-15); it overwrites
-- four fields of an existing hash. Only the task hash is written, and its first use is a read.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- ARGV[1] current
-- ARGV[2] total
-- ARGV[3] message
-- ARGV[4] now, epoch ms
-- ARGV[5] event channel taskpool:{T}:events:<id>
-- ARGV[6] event message (JSON)
-- ARGV[7] lease token of the run reporting it, or '' for progress from outside a run
-- ARGV[8] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[9] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE}, {TASK_MISSING} the task does not exist, {WRONG_STATUS, status} the task has already finished,
--         {LEASE_LOST} the run's lease is not in the hash any more (the task was recovered, or an operator
--         canceled the run; a stale run must not change what the run now holding it reports);
-- nothing was written or published on any of them.
-- Error (nothing changed): "WRONGTYPE <key> holds ..., expected a hash".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
local state = redis.pcall('HMGET', KEYS[1], 'status', 'worker', 'lease_seq')
if state.err then return readFailed(KEYS[1], 'hash', state) end
local status = state[1]
if not status then return {REPLY.TASK_MISSING} end
if status == 'SUCCESS' or status == 'FAILURE' then return {REPLY.WRONG_STATUS, status} end
-- A run holds its lease while the task is RUNNING under its token, "<worker>/<lease_seq>".
if ARGV[7] ~= '' and (status ~= 'RUNNING' or not state[2] or not state[3] or state[2] .. '/' .. state[3] ~= ARGV[7]) then
  return {REPLY.LEASE_LOST}
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'total', ARGV[2], 'message', ARGV[3],
  'progress_at', ARGV[4])
publishTo(ARGV[8], ARGV[5], ARGV[9], ARGV[6])
return {REPLY.DONE}
