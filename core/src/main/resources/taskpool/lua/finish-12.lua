#!lua flags=allow-oom
-- finish-12: one worker's round trip: end a batch of runs (SUCCESS or FAILURE, each only if the
-- worker still holds its lease), then move up to N waiting tasks to RUNNING under new leases.
-- A fetch first moves the delayed tasks that are due (by the `now` given: Redis' clock, as the
-- worker estimates it) from the delayed set to the queue, at most DUE_STEP (1,000) per call, so a
-- million falling due together move over many short calls; it tells the worker the earliest due
-- time still delayed, so that an idle worker wakes for it.
-- Either part may be empty: a plain fetch ends nothing, a plain completion fetches nothing.
-- The runs ended go into the kind's `succeeded`/`failed` index (one RPUSH/ZADD per index per
-- call), and an index written is pruned of the entries past retention in the same call (the
-- recoverer prunes both, for a kind that stopped running). A paused kind
-- (its `paused` key exists) gives nothing from the queue. A fetch also takes up to 100 ids of
-- canceled tasks whose `error` handler is due; the worker runs those handlers.
-- Idempotent: a repeated completion (same token) answers "already done", and a repeated fetch id
-- returns the runs the first call took instead of taking more, so a command that Lettuce re-sends
-- after a reconnect changes nothing.
--
-- allow-oom: it runs when Redis is full (maxmemory, noeviction). Finishing and starting queued
-- work is how a full Redis drains; only adds (enqueue) are refused then. Keys it builds from the
-- prefix (KEYS[4] .. id) carry the same hash tag as its declared keys, which Redis 7 allows in a
-- script with flags (it refuses keys of another slot, not undeclared keys of the same slot).
--
-- All or nothing: Redis does not undo a script that fails half-way, so every key this call will
-- write is checked before its first write; a key of the wrong type is an error naming the key and
-- nothing is changed. Task hashes are read with pcall, so one broken task never fails the batch.
--
-- KEYS[1] taskpool:{T}:waiting          list, ids waiting to run (oldest at the right)
-- KEYS[2] taskpool:{T}:leases           sorted set, id -> lease deadline (epoch ms)
-- KEYS[3] taskpool:{T}:wake             list, the wake-up token for blocked workers
-- KEYS[4] taskpool:{T}:task:            prefix of the task hashes
-- KEYS[5] taskpool:{T}:claim:<worker>   hash, this worker's last fetch: `fetch` id, `ids`, `due` (JSON)
-- KEYS[6] taskpool:{T}:stats            hash of counters
-- KEYS[7] taskpool:{T}:succeeded        list, "<finished_at>:<id>" of SUCCESS tasks retained, newest at the right
-- KEYS[8] taskpool:{T}:failed           sorted set, id -> finished_at of FAILURE tasks retained
-- KEYS[9] taskpool:{T}:paused           string, present while the kind is paused
-- KEYS[10] taskpool:{T}:error-due       list, "<id>:<error>" of canceled tasks whose error handler no
--                                       worker has run (a bare "<id>", queued by an older cancel script,
--                                       takes the task's `error`)
-- KEYS[11] taskpool:{T}:delayed         sorted set, id -> due time (epoch ms) of the tasks not due yet
-- KEYS[12] taskpool:{T}:due-watch       string, the due time one idle worker's timer is set for
-- ARGV[1] now, epoch ms
-- ARGV[2] task id T (for the event messages)
-- ARGV[3] event channel prefix taskpool:{T}:events:
-- ARGV[4] retention of finished tasks, ms
-- ARGV[5] worker id
-- ARGV[6] the most tasks to take (0: fetch nothing)
-- ARGV[7] lease deadline of the runs taken, epoch ms
-- ARGV[8] fetch id (unique per call)
-- ARGV[9] how long the claim record lives, ms
-- ARGV[10] number K of runs to end, then K groups of 4:
--          id, lease token, SUCCESS|FAILURE, response JSON (SUCCESS) or error text (FAILURE)
-- ARGV[11 + 4K] events: 'heard' (publish an event only when someone would receive it: a subscriber
--          of its channel or any pattern subscription on this server) or 'all' (a Cluster)
--
-- Returns {next due, watch, K results, H, then H pairs (id, error) of due error handlers, then
-- quintuples for the runs taken and the ids dropped}; next due is the earliest due time left in the
-- delayed set after this call's promotion (epoch ms; <= now: more are due than one call moves), 0
-- when it is empty, -1 when the call fetched nothing (it did not look); watch is 1 when this worker,
-- which took fewer tasks than it asked for, is to set its timer for that time (see watchDue); a
-- result is
--   DONE, ALREADY_DONE (by this same run), TASK_MISSING (or its key is no hash), LEASE_LOST (the
--   lease is not the worker's any more: recovered elsewhere, or canceled; nothing was written).
-- A re-sent fetch returns the same due handlers as the first (kept in the claim record).
-- A run taken is (id, attempt >= 1, args, created_at or 0, lease number >= 1); its token is
-- "<worker id>/<lease number>", which the hash holds as its `worker` and `lease_seq` fields (no field
-- of its own: a run holds the lease while the task is RUNNING with that worker and lease number).
-- `lease_seq` counts every lease ever handed out for the task (each fetch here; a retry gives its
-- lease back and waits to be fetched again) and nothing resets it, not even an operator's retry (which resets `attempt`): so no two
-- runs of a task ever share a token, and a cancel aimed at one run can never stop a later one.
-- (created_at, read with the fields the fetch reads anyway, gives the worker's wait-time metric).
-- An entry of the queue that is no task id (e.g. 'abc') or whose key is not a hash is dropped from
-- the queue and returned as (entry, 0, reason, 0, 0). An id whose hash is gone, or is already
-- RUNNING/SUCCESS/FAILURE, is dropped silently (the normal race with recovery and expiry); a hash
-- holding garbage (an unknown status, an attempt or lease_seq that is no integer) cannot run and
-- ends in FAILURE naming the field.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
-- Its steps: 0 (the checks) here, 1 (ending runs) in _finish-end.lua, 2 (new runs) in _finish-start.lua.
--@include _codes.lua
--@include _checks.lua
--@include _indexes.lua
--@include _events.lua
--@include _leases.lua
--@include _finish-end.lua
--@include _finish-start.lua
--@include _due.lua
local now, task, events, keep, worker = ARGV[1], cjson.encode(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local k, max = tonumber(ARGV[10]), tonumber(ARGV[6])
local eventMode = ARGV[11 + 4 * (k or 0)]

-- 0. Check before the first write. Reads this call needs anyway come first (pcall: a wrong type is
-- an error value, not an abort); TYPE only for keys whose first use is a write; and the pop from
-- the queue is made the first write, so that the queue needs no check of its own.
local claimed, ids, tokens
if max > 0 then
  claimed = redis.pcall('HGET', KEYS[5], 'fetch')
  if type(claimed) == 'table' and claimed.err then return readFailed(KEYS[5], 'hash', claimed) end
  -- The wake list is read here, which checks its type, and the count is used at the end (nothing
  -- in between writes it): one command instead of a TYPE now and an LLEN then.
  tokens = redis.pcall('LLEN', KEYS[3])
  if type(tokens) == 'table' and tokens.err then return readFailed(KEYS[3], 'list', tokens) end
end
local fetching = max > 0 and claimed ~= ARGV[8]
if k > 0 or fetching then
  local problem = wrongType(KEYS[2], 'zset')
  if problem then return problem end
  local counters = redis.pcall('HMGET', KEYS[6], 'succeeded', 'failed')
  if counters.err then return readFailed(KEYS[6], 'hash', counters) end
  problem = notCounter(KEYS[6], {'succeeded', 'failed'}, counters)
  if problem then return problem end
end
-- The index this batch writes is pruned of its entries past retention here, once per call, and
-- that prune is its check: a wrong type fails it, and nothing was written then but entries of
-- tasks already expired, which any call may remove. The other index is left alone (the
-- recoverer prunes both), so the hot path costs no more than that.
local endsSuccess, endsFailure = false, false
for i = 0, k - 1 do
  if ARGV[13 + i * 4] == 'SUCCESS' then endsSuccess = true else endsFailure = true end
end
local expiredBefore = tonumber(now) - tonumber(keep)
if endsSuccess then
  -- (It looks at twice the entries this call adds, so it keeps up with the entries expiring.)
  local problem = pruneFinishedList(KEYS[7], expiredBefore, 2 * k + 10)
  if problem then return problem end
end
if endsFailure then
  local pruned = redis.pcall('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. expiredBefore)
  if type(pruned) == 'table' and pruned.err then return readFailed(KEYS[8], 'zset', pruned) end
end
local dueCount, paused, soonest = 0, false, -1
if fetching then
  -- One command in the usual case (no pause, no due handler, no delayed task): EXISTS counts the keys.
  local first = {}
  if redis.call('EXISTS', KEYS[9], KEYS[10], KEYS[11]) > 0 then
    paused = redis.call('EXISTS', KEYS[9]) == 1
    dueCount = redis.pcall('LLEN', KEYS[10])
    if type(dueCount) == 'table' and dueCount.err then return readFailed(KEYS[10], 'list', dueCount) end
    -- ZRANGE through pcall is the delayed set's type check: promoteDue writes only after it.
    first = redis.pcall('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
    if type(first) == 'table' and first.err then return readFailed(KEYS[11], 'zset', first) end
  end
  -- Paused: nothing leaves the queue (running tasks still end, due handlers are still handed out).
  -- The due tasks join the queue before it is popped (paused or not: a pause holds the queue).
  soonest = first[2] and tonumber(first[2]) or 0
  if first[2] and soonest <= tonumber(now) then
    -- (The queue's own check, the pop, comes after this write to it.)
    local problem = wrongType(KEYS[1], 'list')
    if problem then return problem end
    local _, later = promoteDue(KEYS[11], KEYS[1], now, DUE_STEP)
    soonest = later or 0
  end
  if not paused then
    ids = redis.pcall('RPOP', KEYS[1], max)
    if type(ids) == 'table' and ids.err then return readFailed(KEYS[1], 'list', ids) end
  end
end
local out = {soonest, 0}

-- 1. End the runs (_finish-end.lua).
endRuns(out, k, now, task, events, keep, eventMode)

-- 2. Due error handlers, then new runs (_finish-start.lua).
if max == 0 then
  out[#out + 1] = 0
  return out
end
if claimed == ARGV[8] then
  -- (a read: the first call promoted what was due; through pcall, as this branch did not check the
  -- set's type and the runs are already ended: a set of the wrong type now answers "none due")
  local first = redis.pcall('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
  out[1] = (type(first) == 'table' and not first.err and tonumber(first[2])) or 0
  answerAgain(out, worker)
  return out
end
local due = {}
if dueCount > 0 then due = redis.call('RPOP', KEYS[10], 100) end
handOut(out, due)
if soonest > tonumber(now) and (not ids or #ids < max) then out[2] = watchDue(KEYS[12], soonest, now) end
if not ids then   -- (popped in step 0; none when the queue was empty or the kind is paused)
  if #due > 0 then
    redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', '', 'due', dueRecord(due))
    redis.call('PEXPIRE', KEYS[5], ARGV[9])
  end
  return out
end
local taken = startRuns(out, ids, now, task, events, keep, worker, eventMode)
if #taken > 0 then addLeases(KEYS[2], ARGV[7], taken) end
redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', table.concat(taken, ','), 'due', dueRecord(due))
redis.call('PEXPIRE', KEYS[5], ARGV[9])
-- Pass the baton: more is waiting (or due) than this worker could take, so wake another one.
-- (RPOP gave fewer than asked only when it emptied the queue: then there is nothing to count.)
if tokens == 0 and #ids == max and (redis.call('LLEN', KEYS[1]) > 0 or (soonest > 0 and soonest <= tonumber(now))) then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
