#!lua flags=allow-oom
-- cancel-10: an operator cancels a WAITING or RUNNING task: it ends FAILURE at once with the error
-- "canceled" (" by <who>" when given), and runs no more. A WAITING task leaves the queue, or the
-- `delayed` set when it waits for a time (a delayed add, or a retry waiting out its backoff); a
-- RUNNING task loses its lease here (so nothing its run still does can be recorded: its
-- completion, retry, progress and heartbeat are refused) and a `cancel` message on the kind's
-- control channel tells the worker holding that lease to stop the run; the hash keeps that run's
-- token in `canceled_lease` (an operator's retry keeps it too), so that a worker whose heartbeat
-- finds the lease gone, before or without that message, can tell the run was canceled. The task's
-- `error` handler (when the published definition has one) is queued in `error-due` for one worker
-- to run once, with the error it got here; an idle worker is woken for it.
-- allow-oom: stopping work must be possible when Redis is full; it adds a few bytes at most.
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>   the task hash
-- KEYS[2] taskpool:{T}:waiting     list of waiting ids
-- KEYS[3] taskpool:{T}:leases      sorted set of leases
-- KEYS[4] taskpool:{T}:failed      sorted set, id -> finished_at of FAILURE tasks
-- KEYS[5] taskpool:{T}:stats       hash of counters (canceled, failed)
-- KEYS[6] taskpool:{T}:error-due   list, "<id>:<error>" of canceled tasks whose error handler is due
-- KEYS[7] taskpool:{T}:wake        wake-up token list
-- KEYS[8] taskpool:{T}:def         the published definition (keep, event.error)
-- KEYS[9] taskpool:{T}:delayed     sorted set, id -> due time, of the WAITING tasks that wait for a time
-- KEYS[10] taskpool:{T}:unique:     prefix of the unique keys: a canceled task frees its key at once
--                                   (a ready task of priority p waits in KEYS[2] .. ':' .. p)
-- ARGV[1] id
-- ARGV[2] now, epoch ms
-- ARGV[3] who cancels it ('' when not given)
-- ARGV[4] task id T (for the messages)
-- ARGV[5] event channel taskpool:{T}:events:<id>
-- ARGV[6] control channel taskpool:{T}:control
-- ARGV[7] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[8] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE, status it had (WAITING or RUNNING)}, or, writing nothing:
--   {TASK_MISSING} the task does not exist (never added, or expired), {WRONG_STATUS, status} it has
--   already finished.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
--@include _priority.lua
--@include _events.lua
local state = redis.pcall('HMGET', KEYS[1], 'status', 'worker', 'lease_seq', 'priority', 'key')
if state.err then return readFailed(KEYS[1], 'hash', state) end
-- The lease token of the run holding a RUNNING task: "<worker>/<lease_seq>" (none when an older
-- worker, which wrote no `lease_seq`, holds it: its heartbeat then finds the task ended).
local status, lease = state[1], state[2] and state[3] and state[2] .. '/' .. state[3]
if not status then return {REPLY.TASK_MISSING} end
if status ~= 'WAITING' and status ~= 'RUNNING' then return {REPLY.WRONG_STATUS, status} end
local queue = queueOf(KEYS[2], state[4])
local problem = wrongType(queue, 'list') or wrongType(KEYS[3], 'zset') or wrongType(KEYS[4], 'zset')
  or wrongType(KEYS[6], 'list') or wrongType(KEYS[7], 'list') or wrongType(KEYS[9], 'zset')
if problem then return problem end
local def = redis.pcall('HMGET', KEYS[8], 'keep', 'event.error')
if def.err then return readFailed(KEYS[8], 'hash', def) end
if def[1] and not string.match(def[1], '^%d+$') then return badValue(KEYS[8], 'keep', def[1], 'an integer') end
local counters = redis.pcall('HMGET', KEYS[5], 'canceled', 'failed')
if counters.err then return readFailed(KEYS[5], 'hash', counters) end
for i, field in ipairs({'canceled', 'failed'}) do
  if counters[i] and not string.match(counters[i], '^-?%d+$') then
    return badValue(KEYS[5], field, counters[i], 'an integer')
  end
end

-- Its unique key, if it still holds it, is freed (`unique_for` does not apply: a user who ends a
-- task by hand wants to add it again).
local function freeUnique(key, id)
  if key and redis.pcall('GET', KEYS[10] .. key) == id then redis.call('DEL', KEYS[10] .. key) end
end
local id, now, by = ARGV[1], ARGV[2], ARGV[3]
local err = 'canceled'
if by ~= '' then err = err .. ' by ' .. by end
local task, byJson = cjson.encode(ARGV[4]), (by ~= '' and cjson.encode(by) or 'null')
if status == 'WAITING' then
  -- A WAITING task is in one of the two: the queue is scanned only when it is not in `delayed`.
  -- (One command per line: an ACL refusal is reported by the line of the command refused.)
  local wasDelayed = redis.call('ZREM', KEYS[9], id) == 1
  if not wasDelayed then
    redis.call('LREM', queue, 0, id)
  end
else
  redis.call('ZREM', KEYS[3], id)
end
redis.call('HSET', KEYS[1], 'status', 'FAILURE', 'error', err, 'finished_at', now, 'canceled_at', now)
freeUnique(state[5], id)
if by ~= '' then redis.call('HSET', KEYS[1], 'canceled_by', by) end
if status == 'RUNNING' and lease then redis.call('HSET', KEYS[1], 'canceled_lease', lease) end
redis.call('PEXPIRE', KEYS[1], tonumber(def[1] or '86400') * 1000)
redis.call('ZADD', KEYS[4], now, id)
redis.call('HINCRBY', KEYS[5], 'canceled', 1)
redis.call('HINCRBY', KEYS[5], 'failed', 1)
if def[2] and def[2] ~= '' then
  -- The entry carries the error: the task's own may change before a worker takes it (a retry).
  redis.call('LPUSH', KEYS[6], id .. ':' .. err)
  -- Wake an idle worker: its round trip takes the handler (a busy one takes it on its next fetch).
  if redis.call('LLEN', KEYS[7]) == 0 then redis.call('RPUSH', KEYS[7], '1') end
end
if status == 'RUNNING' and lease then
  publishTo(ARGV[7], ARGV[6], nil, cancelRequest(task, id, cjson.encode(lease), byJson, now))
end
publishTo(ARGV[7], ARGV[5], ARGV[8], canceledEvent(task, id, err, byJson, now))
return {REPLY.DONE, status}
