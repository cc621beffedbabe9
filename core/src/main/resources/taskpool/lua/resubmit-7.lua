-- resubmit-7: an operator retries FAILURE tasks: one by id, or the failed tasks of the kind (from
-- the `failed` index, oldest first, a bounded number per call). Each goes back to WAITING with a
-- fresh run budget (attempt 0), no expiry, and its history kept readable: the error it had in
-- `previous_error`, the runs it made so far in `previous_attempts` (summed over retries),
-- `resubmitted` (how many times an operator retried it), `resubmitted_by`, `resubmitted_at`.
-- `lease_seq` is kept (it only grows, see finish-15): the task's next run gets a lease token no run
-- before the retry had, so what was aimed at an earlier run (a cancel message still on its way, a
-- worker's memory of recent cancels) cannot stop it. `canceled_lease` is kept too, so that the
-- worker of a canceled run can still tell, after the retry, that its run was canceled.
-- It joins the queue as the newest task, ready at once; an idle worker is woken. A due time it
-- had (`due_at`, from a delayed add or a retry's backoff) goes, and so does an entry of `delayed`
-- left behind by hand or by an older version: it is no delayed task any more, and must not reach
-- the queue twice.
-- `size` is not checked: an operator's retry is not an add. (No `#!lua` line: like enqueue, it
-- adds work, so a full Redis refuses it before its first write.)
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:     prefix of the task hashes
-- KEYS[2] taskpool:{T}:waiting   list of waiting ids
-- KEYS[3] taskpool:{T}:wake      wake-up token list
-- KEYS[4] taskpool:{T}:failed    sorted set, id -> finished_at of FAILURE tasks
-- KEYS[5] taskpool:{T}:stats     hash of counters (resubmitted)
-- KEYS[6] taskpool:{T}:delayed   sorted set, id -> due time of the delayed tasks
-- KEYS[7] taskpool:{T}:unique:    prefix of the unique keys: a retried task takes its key again
--                                 when the key is free (or still its own); when another task took
--                                 it meanwhile, the retried task runs without a key
--                                 (a task of priority p goes back to KEYS[2] .. ':' .. p)
-- ARGV[1] now, epoch ms
-- ARGV[2] who retries ('' when not given)
-- ARGV[3] task id T (for the messages)
-- ARGV[4] event channel prefix taskpool:{T}:events:
-- ARGV[5] control channel taskpool:{T}:control
-- ARGV[6] 'one' or 'all'
-- ARGV[7] one: the id; all: only tasks that finished at or before this time (epoch ms), so that
--         a task failing again during a bulk retry is not taken twice
-- ARGV[8] all: the most tasks this call takes
-- ARGV[9] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[10] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {count retried, 1 when more failed tasks may be left (all) else 0} (for one task: {1, 0},
-- its count being DONE's code), or, writing nothing (one): {TASK_MISSING} the task does not exist
-- (never added, or expired), {WRONG_STATUS, status} it is not FAILURE.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
--@include _priority.lua
--@include _events.lua
local problem = wrongType(KEYS[2], 'list') or wrongType(KEYS[3], 'list') or wrongType(KEYS[4], 'zset')
  or wrongType(KEYS[6], 'zset')
if problem then return problem end
local counter = redis.pcall('HGET', KEYS[5], 'resubmitted')
if type(counter) == 'table' and counter.err then return readFailed(KEYS[5], 'hash', counter) end
if counter and not string.match(counter, '^-?%d+$') then return badValue(KEYS[5], 'resubmitted', counter, 'an integer') end

-- What each candidate holds, read before any write; a field that cannot be counted is an error.
local function read(id)
  local key = KEYS[1] .. id
  local fields = redis.pcall('HMGET', key, 'status', 'error', 'attempt', 'previous_attempts', 'resubmitted', 'priority',
    'key')
  if fields.err then return nil, readFailed(key, 'hash', fields) end
  for i, field in ipairs({'attempt', 'previous_attempts', 'resubmitted'}) do
    local value = fields[i + 2]
    if value and not string.match(value, '^%d+$') then return nil, badValue(key, field, value, 'an integer') end
  end
  return fields
end

local chosen, stale, more = {}, {}, 0
if ARGV[6] == 'one' then
  local fields, failure = read(ARGV[7])
  if failure then return failure end
  if not fields[1] then return {REPLY.TASK_MISSING} end
  if fields[1] ~= 'FAILURE' then return {REPLY.WRONG_STATUS, fields[1]} end
  chosen[1] = {ARGV[7], fields}
else
  local limit = tonumber(ARGV[8])
  local ids = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[7], 'LIMIT', 0, limit)
  if #ids == limit then more = 1 end
  for _, id in ipairs(ids) do
    local fields
    if string.match(id, '^[1-9]%d*$') and #id <= 16 then
      local failure
      fields, failure = read(id)
      if failure then return failure end
    end
    if fields and fields[1] == 'FAILURE' then
      chosen[#chosen + 1] = {id, fields}
    else
      stale[#stale + 1] = id   -- expired, deleted by hand, or no task id: the index forgets it
    end
  end
end

local now, by, task = ARGV[1], ARGV[2], cjson.encode(ARGV[3])
local byJson = by ~= '' and cjson.encode(by) or 'null'
if #stale > 0 then redis.call('ZREM', KEYS[4], unpack(stale)) end
-- (outside a Cluster every resubmitted event is published, as always; in one, to whoever hears it)
local chosenIds = {}
for _, entry in ipairs(chosen) do chosenIds[#chosenIds + 1] = entry[1] end
local listeners = listenersOf(isSharded(ARGV[9]) and ARGV[9] or 'all', ARGV[4], chosenIds, ARGV[10])
for _, entry in ipairs(chosen) do
  local id, fields = entry[1], entry[2]
  local key = KEYS[1] .. id
  redis.call('HSET', key, 'status', 'WAITING', 'attempt', '0', 'previous_error', fields[2] or '',
    'previous_attempts', tostring(tonumber(fields[4] or '0') + tonumber(fields[3] or '0')),
    'resubmitted', tostring(tonumber(fields[5] or '0') + 1), 'resubmitted_by', by, 'resubmitted_at', now,
    'current', '0', 'total', '0', 'message', '')
  redis.call('HDEL', key, 'error', 'finished_at', 'done_by', 'lease', 'lost_at', 'response', 'started_at',
    'worker', 'canceled_by', 'canceled_at', 'due_at')
  redis.call('PERSIST', key)
  redis.call('ZREM', KEYS[4], id)
  redis.call('ZREM', KEYS[6], id)
  if fields[7] then
    local unique = KEYS[7] .. fields[7]
    local holder = redis.pcall('GET', unique)
    local holderStatus = type(holder) == 'string' and holder ~= id and redis.pcall('HGET', KEYS[1] .. holder, 'status')
    if holderStatus == 'WAITING' or holderStatus == 'RUNNING' then
      redis.call('HDEL', key, 'key')
    elseif type(holder) ~= 'table' then
      redis.call('SET', unique, id, 'PX', 86400000)
    end
  end
  local queue = queueOf(KEYS[2], fields[6])
  if not ({list = true, none = true})[redis.call('TYPE', queue).ok] then queue = KEYS[2] end
  redis.call('LPUSH', queue, id)
  if hears(listeners, id) then publishEvent(listeners, id, resubmittedEvent(task, id, byJson, now)) end
end
if #chosen > 0 then
  redis.call('HINCRBY', KEYS[5], 'resubmitted', #chosen)
  if redis.call('LLEN', KEYS[3]) == 0 then redis.call('RPUSH', KEYS[3], '1') end
end
if ARGV[6] == 'all' and #chosen > 0 then
  publishTo(ARGV[9], ARGV[5], nil, resubmittedControl(task, #chosen, byJson, now))
end
return {#chosen, more}
