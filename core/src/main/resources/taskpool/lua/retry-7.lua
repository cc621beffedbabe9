#!lua flags=allow-oom
-- retry-7: a run failed with runs left: its task leaves the worker to wait for its next run. The
-- run's lease ends here; the task is WAITING with the run's `error` and `due_at` (now + the wait),
-- and waits in `delayed` (delayTask of _due.lua, which wakes an idle worker when it becomes the
-- earliest). With no wait it goes straight to the back of the queue instead (LPUSH: workers pop
-- at the right), where a delayed task joins it when it falls due: a task that fails at once every
-- time never holds the front against the tasks already waiting. The worker's slot is free as soon
-- as this answers; the next run is fetched like any task, by any worker (the fetch makes `attempt`
-- + 1 and gives a new lease).
-- A run that does not count against `attempts` (its processor said so): `attempt` - 1 here, so that
-- the next run has the same number, and `free_runs` + 1; runs made = attempt + free_runs.
-- A run whose processor said the service it calls limits it ('held'): as a free run, and the
-- whole kind holds back until the wait is over (`held_until`, `held_reason` in its `flow` hash;
-- a later hold never shortens an earlier one): no fetch takes a task of the kind until then.
-- A task of priority 1-3 (its hash's `priority`) goes back to its own list (`waiting:<p>`).
-- `worker` and `started_at` go, as when a stopping worker hands a task back: a WAITING task has none.
-- `retried_lease` keeps the failed run's token: a re-send (Lettuce after a reconnect, or the worker
-- trying again while Redis was away) finds it and answers ALREADY_DONE, even when the next run has
-- started since. `stats.retried` + 1; the `retry` event (status WAITING, the failed run's attempt,
-- its error, `due_at`).
-- allow-oom: giving work back to the queue is part of draining a full Redis (see finish-15).
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:delayed    sorted set, id -> due time (epoch ms)
-- KEYS[4] taskpool:{T}:waiting    list of waiting ids
-- KEYS[5] taskpool:{T}:wake       wake-up token list
-- KEYS[6] taskpool:{T}:stats      hash of counters
-- KEYS[7] taskpool:{T}:flow       hash, the flow controls and their state (a hold is written here)
-- ARGV[1] id
-- ARGV[2] lease token of the failed run, "<worker>/<lease_seq>"
-- ARGV[3] error text of the failed run
-- ARGV[4] now, epoch ms (Redis' clock, as the caller read it)
-- ARGV[5] the wait before the next run, ms (an integer from 0; 0: into the queue at once)
-- ARGV[6] 'counted' (the run counts against `attempts`), 'free' (it does not) or 'held' (it does
--         not, and the kind holds back for the wait)
-- ARGV[7] task id T (for the event message)
-- ARGV[8] event channel taskpool:{T}:events:<id>
-- ARGV[9] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[10] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE}, {ALREADY_DONE} (a repeated command), {TASK_MISSING} the task does not exist,
--         {LEASE_LOST} the run does not hold the lease (recovered elsewhere, or canceled); nothing
--         was written on an error.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
--@include _due.lua
--@include _priority.lua
local state = redis.pcall('HMGET', KEYS[1], 'status', 'worker', 'lease_seq', 'attempt', 'free_runs', 'retried_lease',
  'priority')
if state.err then return readFailed(KEYS[1], 'hash', state) end
if state[6] == ARGV[2] then return {REPLY.ALREADY_DONE} end
-- A run holds its lease while the task is RUNNING under its token, "<worker>/<lease_seq>".
local lease = state[1] == 'RUNNING' and state[2] and state[3] and state[2] .. '/' .. state[3]
if not state[1] and redis.call('EXISTS', KEYS[1]) == 0 then return {REPLY.TASK_MISSING} end
if lease ~= ARGV[2] then return {REPLY.LEASE_LOST} end
local wait, counts = ARGV[5], ARGV[6]
if not string.match(wait, '^%d+$') or #wait > 15 then
  return redis.error_reply("BADVALUE the wait '" .. wait .. "' is not a number of ms from 0 (at most 15 digits);"
    .. ' nothing was changed')
end
if counts ~= 'counted' and counts ~= 'free' and counts ~= 'held' then
  return redis.error_reply("BADVALUE '" .. counts .. "' is not 'counted', 'free' or 'held'; nothing was changed")
end
if not string.match(state[4] or '', '^%d+$') then
  return badValue(KEYS[1], 'attempt', tostring(state[4]), 'an integer from 1')
end
if counts ~= 'counted' and tonumber(state[4]) < 1 then return badValue(KEYS[1], 'attempt', state[4], 'an integer from 1') end
if state[5] and not string.match(state[5], '^%d+$') then return badValue(KEYS[1], 'free_runs', state[5], 'an integer') end
local queue = queueOf(KEYS[4], state[7])
local problem = wrongType(KEYS[2], 'zset') or wrongType(KEYS[3], 'zset') or wrongType(queue, 'list')
  or wrongType(KEYS[5], 'list') or (counts == 'held' and wrongType(KEYS[7], 'hash'))
if problem then return problem end
local retried = redis.pcall('HGET', KEYS[6], 'retried')
if type(retried) == 'table' and retried.err then return readFailed(KEYS[6], 'hash', retried) end
problem = notCounter(KEYS[6], {'retried'}, {retried})
if problem then return problem end

local id, err, now = ARGV[1], ARGV[3], ARGV[4]
local due = string.format('%d', tonumber(now) + tonumber(wait))
redis.call('HSET', KEYS[1], 'status', 'WAITING', 'error', err, 'due_at', due, 'retried_lease', ARGV[2])
redis.call('HDEL', KEYS[1], 'worker', 'started_at')
if counts ~= 'counted' then
  redis.call('HINCRBY', KEYS[1], 'attempt', -1)
  redis.call('HINCRBY', KEYS[1], 'free_runs', 1)
end
redis.call('ZREM', KEYS[2], id)
if tonumber(wait) == 0 then
  local queued = redis.call('LLEN', queue)
  redis.call('LPUSH', queue, id)
  -- As an add does: a token when the queue was empty (a busy worker takes the task on its next fetch).
  if queued == 0 and redis.call('LLEN', KEYS[5]) == 0 then
    redis.call('RPUSH', KEYS[5], '1')
  end
else
  delayTask(KEYS[3], KEYS[5], id, due)
end
if counts == 'held' then
  local held = tonumber(redis.call('HGET', KEYS[7], 'held_until') or '')
  if not held or held < tonumber(due) then
    redis.call('HSET', KEYS[7], 'held_until', due, 'held_reason', string.sub(err, 1, 200))
  end
end
redis.call('HINCRBY', KEYS[6], 'retried', 1)
publishTo(ARGV[9], ARGV[8], ARGV[10], retryEvent(cjson.encode(ARGV[7]), id, state[4], err, now, due))
return {REPLY.DONE}
