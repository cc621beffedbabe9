#!lua flags=allow-oom
-- finish-15: one worker's round trip: end a batch of runs (SUCCESS or FAILURE, each only if the
-- worker still holds its lease), then move up to N waiting tasks to RUNNING under new leases,
-- within the kind's flow controls (cap, rate, hold, priorities: see _flow.lua). A call held back
-- tells the worker when the kind may start again, as it tells a due time.
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
-- KEYS[13] taskpool:{T}:flow            hash, the flow controls and their state (see _flow.lua)
-- KEYS[14] taskpool:{T}:rate            sorted set, the starts in the rate window
-- KEYS[15] taskpool:{T}:unique:         prefix of the unique keys (a run that starts renews its
--                                       task's key; one that ends keeps it `unique_for`, or frees it)
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
-- ARGV[11 + 4K] events: 'heard', 'sharded', 'all' or 'sharded-all' (see _events.lua, EventMode);
-- ARGV[12 + 4K] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {next due, watch, K results, H, then H pairs (id, error) of due error handlers, then
-- quintuples for the runs taken and the ids dropped}; next due is the earliest due time left in the
-- delayed set after this call's promotion (epoch ms; <= now: more are due than one call moves), 0
-- when it is empty, -1 when the call fetched nothing (it did not look); or, when the kind is held
-- back (a hold, the rate) with tasks ready, the time it may start again, if that is sooner; watch
-- is 1 when this worker, which took fewer tasks than it asked for, is to set its timer for that
-- time (see watchDue), 2 when that time is the end of a hold or of the rate window (the worker adds
-- a little jitter); a result is
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
--@include _flow.lua
local now, task, events, keep, worker = ARGV[1], cjson.encode(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local k, max = tonumber(ARGV[10]), tonumber(ARGV[6])
local eventMode, kindEvents = ARGV[11 + 4 * (k or 0)], ARGV[12 + 4 * (k or 0)]

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
-- The index this batch writes is pruned (and so checked) here, once per call (_indexes.lua).
local problem = pruneWrittenIndexes(k, now, keep)
if problem then return problem end
local dueCount, paused, soonest, flow = 0, false, -1, false
if fetching then
  -- One command in the usual case (no pause, no due handler, no delayed task, no flow control):
  -- EXISTS counts the keys.
  local first = {}
  if redis.call('EXISTS', KEYS[9], KEYS[10], KEYS[11], KEYS[13]) > 0 then
    paused = redis.call('EXISTS', KEYS[9]) == 1
    dueCount = redis.pcall('LLEN', KEYS[10])
    if type(dueCount) == 'table' and dueCount.err then return readFailed(KEYS[10], 'list', dueCount) end
    -- ZRANGE through pcall is the delayed set's type check: promoteDue writes only after it.
    first = redis.pcall('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
    if type(first) == 'table' and first.err then return readFailed(KEYS[11], 'zset', first) end
    flow, problem = readFlow(KEYS[13], KEYS[14])
    if problem then return problem end
  end
  -- Paused: nothing leaves the queue (running tasks still end, due handlers are still handed out).
  -- The due tasks join the queue before it is popped (paused or not: a pause holds the queue).
  soonest = first[2] and tonumber(first[2]) or 0
  if first[2] and soonest <= tonumber(now) then
    local problem = wrongType(KEYS[1], 'list')   -- (the pop, its usual check, comes after this write)
    if problem then return problem end
    local _, later = promoteDue(KEYS[11], KEYS[1], now, DUE_STEP, flow and flow[5] == '1' and KEYS[4])
    soonest = later or 0
  end
  if not paused and not flow then
    ids = redis.pcall('RPOP', KEYS[1], max)
    if type(ids) == 'table' and ids.err then return readFailed(KEYS[1], 'list', ids) end
  end
end
-- A kind with flow controls takes after its runs ended (their leases no longer count against
-- the cap); its ready lists and its rate set are checked here, before the first write.
local queues, heldUntil
local flowTakes = fetching and not paused and flow
if flowTakes then
  -- (a priority list broken by hand: the promotion above may have moved due ids, a whole change of its own)
  queues, problem = readyQueues(KEYS[1], flow[5] == '1')
  if not queues then return problem end
end
local out = {soonest, 0}

-- 1. End the runs (_finish-end.lua).
local endedRuns = endRuns(out, k, now, task, events, keep, eventMode, kindEvents)
if flowTakes then
  ids, heldUntil = takeUnderFlow(flow, {KEYS[2], KEYS[14], KEYS[13]}, queues, max, now)
  if #ids == 0 then ids = nil end
end

-- 2. Due error handlers, then new runs (_finish-start.lua).
if max == 0 then
  out[#out + 1] = 0
  if endedRuns > 0 then wakeForFreedSlots(KEYS[13], KEYS[2], KEYS[3], KEYS[1]) end
  return out
end
if claimed == ARGV[8] then
  answerAgain(out, worker)
  return out
end
local due = {}
if dueCount > 0 then due = redis.call('RPOP', KEYS[10], 100) end
handOut(out, due)
nextLook(out, heldUntil, soonest, not ids or #ids < max, now)
if not ids then   -- (popped in step 0; none when the queue was empty or the kind is paused)
  if #due > 0 then
    redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', '', 'due', dueRecord(due))
    redis.call('PEXPIRE', KEYS[5], ARGV[9])
  end
  return out
end
local taken, leases = startRuns(out, ids, now, task, events, keep, worker, eventMode, kindEvents)
if #taken > 0 then addLeases(KEYS[2], ARGV[7], taken) end
if flow then recordStarts(KEYS[14], flow, taken, leases, now) end
redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', table.concat(taken, ','), 'due', dueRecord(due))
redis.call('PEXPIRE', KEYS[5], ARGV[9])
-- Pass the baton: more is waiting (or due) than this worker could take, so wake another one.
-- (RPOP gave fewer than asked only when it emptied the queue: then there is nothing to count.)
if tokens == 0 and #ids == max and ((queues and readyCount(queues) or redis.call('LLEN', KEYS[1])) > 0
    or (soonest > 0 and soonest <= tonumber(now))) then redis.call('RPUSH', KEYS[3], '1') end
return out
