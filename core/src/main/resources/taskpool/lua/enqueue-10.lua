-- enqueue-10: add tasks to the waiting queue of their task kind, or, when they are due later, to
-- its delayed set (WAITING, with `due_at` in the hash; a fetch moves them to the queue when due). One call carries one or more add
-- requests (concurrent adds of one kind share a call: the client's group commit), each all or
-- nothing on its own, with its own reply: a refused request writes nothing and does not refuse
-- the others. Requests are checked in the order given, each against what the ones before it in
-- the call leave (the queue's length for `size`, the counter, the ids they take), and their tasks
-- join the queue in that order. Up to a thousand tasks per call (one chunk of a batch, or many
-- single adds).
-- Idempotent per request id: a request that Redis ran but whose reply was lost, sent again (by
-- Lettuce after a reconnect, or by the caller settling an unknown outcome), gets its first result
-- and writes nothing more, whatever other requests share either call.
-- `size` is checked against each request's own count (ARGV): a batch's first chunk gives the
-- whole batch, so that a batch is admitted or refused as a whole, and its later chunks 0 (no check).
-- It counts the ready tasks and the delayed ones alike.
-- Everything that can fail is checked before the first write (or by it: the `stats.added` counter
-- is written first, through pcall, once for the whole call), so a refused request writes nothing.
-- Over `maxmemory`, Redis refuses a script's first write (and lets it continue once it has
-- written), so new requests are refused ({REDIS_REFUSED, 'OOM ...'}) having written nothing, while a
-- repeated one still gets its record. (No `#!lua` line: it would refuse even that, and Redis 6
-- cannot parse it.)
--
-- KEYS[1] taskpool:{T}:def        hash, the published definition (must exist; `size`, `id_stride`, `id_offset`)
-- KEYS[2] taskpool:{T}:seq        string, the id counter n (default ids n * id_stride + id_offset)
-- KEYS[3] taskpool:{T}:waiting    list, ids waiting to run (LPUSH here, RPOP by workers)
-- KEYS[4] taskpool:{T}:wake       list, at most one wake-up token for blocked workers
-- KEYS[5] taskpool:{T}:task:      prefix of the task hashes; the script appends the id
-- KEYS[6] taskpool:{T}:req:       prefix of the request records (string, a request's result, kept
--                                 for ARGV[3] ms); the script appends each request id
--                                 (KEYS[5] and KEYS[6]: same hash tag, so the same cluster slot)
-- KEYS[7] taskpool:{T}:stats      hash of counters (added, succeeded, failed, retried, recovered)
-- KEYS[8] taskpool:{T}:delayed    sorted set, id -> due time (epoch ms) of the tasks not due yet
-- KEYS[9] taskpool:{T}:flow       hash; `priorities` is set once a task of priority 1-3 is added
--                                 (fetches and promotions then look at the priority lists)
-- KEYS[10] taskpool:{T}:unique:   prefix of the unique keys (string: the id of the task holding the
--                                 key); the script appends the key. The ready tasks of priority p
--                                 (1-3) wait in KEYS[3] .. ':' .. p (same slot).
-- ARGV[1] task id T (for the event messages)
-- ARGV[2] event channel prefix taskpool:{T}:events:
-- ARGV[3] how long to remember a request id, ms
-- ARGV[4] events: 'heard' or 'sharded' (publish an `added` event only when someone would receive
--         it: see _events.lua), 'all' or 'sharded-all' (every event; 'sharded*': a Cluster, SPUBLISH)
--         (ARGV[4] and ARGV[5]: dev.taskpool.core.lua.EventMode)
-- ARGV[5] the kind's events channel taskpool:{T}:events (in a Cluster every event goes there too)
-- ARGV[6..] the requests, one after the other, each as:
--           request id, now (epoch ms, Redis' clock: its tasks' created_at and its events' time),
--           due (epoch ms, Redis' clock, fixed when the request was made: its tasks start no
--           earlier; 0 or a time not after now: at once),
--           how many tasks must fit within `size` (0: no check), priority ('0' to '3'),
--           unique key ('' for none; given only with n = 1), n (its tasks),
--           then n pairs: id (or '' to take the next value of the counter), args (a JSON array)
-- Unique adds: a task with a key (its request's, or "args:<sha1 of its args>" when the definition
-- says `unique_by` = args) whose key is held adds nothing; see uniqueHolders (_enqueue-requests.lua)
-- for when a key is held. A new task with a key writes `key` in its hash and takes the key for 24 h
-- past its due time (each start renews that; its end keeps it `unique_for` ms, or frees it).
-- `stats.duplicates` counts the adds answered so.
--
-- Returns one reply per request, in the order given:
--   {id, id, ...}                its tasks' ids in the order given (also for a repeated request);
--                                a duplicate's is "=<id of the task holding its key>"
-- or, having written nothing for that request (codes from _codes.lua):
--   {QUEUE_FULL}                       the queue cannot take its count (`size` would be passed)
--   {UNKNOWN_TASK}                     the task was never published
--   {ID_TAKEN, id}                     a task with this given id already exists (or the id is
--                                      given twice, or an earlier request of the call takes it)
--   {WRONG_TYPE, key, holds, expected} a key holds something this script cannot work with
--   {NEXT_ID_TAKEN, id}                a default id (from the counter) lands on an existing key
--   {IDS_EXHAUSTED, counter, n}        n default ids would pass the last id, 2^53-1
--   {REDIS_REFUSED, error}             Redis refused a read or the first write (OOM over
--                                      maxmemory, an ACL rule), as Redis said it
-- A malformed request list (a caller's bug) is an error reply naming where, and writes nothing.
-- Its parts: reading the requests and their records in _enqueue-requests.lua, deciding which are
-- accepted in _enqueue-decide.lua, a task's writes in _enqueue-write.lua, the rest here.
--@include _codes.lua
--@include _events.lua
--@include _enqueue-requests.lua
--@include _enqueue-decide.lua
--@include _enqueue-write.lua
--@include _due.lua
local requests, recordKeys = parseRequests()
if not requests then return recordKeys end   -- (the error reply)
local replies, pending = earlierReplies(requests, recordKeys)
if #pending == 0 then return replies end
-- Gives every request still pending the same refusal, and returns the replies.
local function refuseAll(refusal)
  for _, r in ipairs(pending) do replies[r] = refusal end
  return replies
end

local def = read('hash', 'HMGET', KEYS[1], 'size', 'unique_by', 'unique_for', 'id_stride', 'id_offset') or {}
local size = def[1]
local counterText = read('string', 'GET', KEYS[2])
local waiting = read('list', 'LLEN', KEYS[3])
local delayed = read('zset', 'ZCARD', KEYS[8])   -- (also its type check: delayed adds write it)
-- The ready tasks of priorities 1-3 count too (`size` and the wake token); one EXISTS looks.
local levels = {KEYS[3] .. ':1', KEYS[3] .. ':2', KEYS[3] .. ':3'}
if redis.call('EXISTS', unpack(levels)) > 0 then
  for _, level in ipairs(levels) do waiting = (read('list', 'LLEN', level) or 0) + (waiting or 0) end
end
local anyPriority = false
for _, r in ipairs(pending) do
  if requests[r].priority ~= '0' then anyPriority = true break end
end
if anyPriority then read('hash', 'HGET', KEYS[9], 'priorities') end   -- (its type check: written below)
local keepFor = tonumber(def[3] or '0') or 0
local holders = uniqueHolders(requests, pending, def[2] == 'args', keepFor)
-- The wake list matters when the queue is empty (workers may be blocked then) and for a delayed
-- add (a new earliest due time wakes a worker); a plain add under load reads nothing of it.
local anyLater = false
for _, r in ipairs(pending) do
  if requests[r].due then anyLater = true break end
end
local tokens = (waiting == 0 or anyLater) and read('list', 'LLEN', KEYS[4])
if bad then return refuseAll(bad) end
if not size then return refuseAll({REPLY.UNKNOWN_TASK}) end
if not tonumber(size) then return refuseAll(wrong(KEYS[1], "size '" .. size .. "'", 'an integer')) end
size = tonumber(size)
counterText = counterText or '0'
if not counterText:match('^%d+$') then return refuseAll(wrong(KEYS[2], "'" .. counterText .. "'", 'an integer')) end
local anyGiven = false
for _, r in ipairs(pending) do
  local request = requests[r]
  for i = request.from, request.to, 2 do
    if ARGV[i] ~= '' then anyGiven = true break end
  end
end

local call = {requests = requests, pending = pending, replies = replies, size = size, counterText = counterText,
  waiting = waiting + delayed, anyGiven = anyGiven, holders = holders,
  stride = tonumber(def[4] or '1') or 1, offset = tonumber(def[5] or '0') or 0}
local plan = decide(call, false)
if #plan.keys > 0 and sliced('EXISTS', plan.keys) > 0 then
  plan = decide(call, true)
end
if #plan.accepted == 0 then return replies end

-- The writes. The first is the counter of adds, through pcall: a `stats` key that is no hash, or an
-- `added` that is no integer (or would overflow), fails it and is refused here having written
-- nothing, which spares a read of its own. Nothing after it can fail on what is stored.
local total = #plan.keys
local bumped = redis.pcall('HINCRBY', KEYS[7], 'added', total)
if type(bumped) == 'table' and bumped.err then
  local refusal = {REPLY.REDIS_REFUSED, bumped.err}   -- an ACL refusal, OOM, ...: as Redis said it
  local held = redis.call('TYPE', KEYS[7]).ok
  local added = redis.pcall('HGET', KEYS[7], 'added')
  if held ~= 'hash' and held ~= 'none' then
    refusal = wrong(KEYS[7], 'a ' .. held, 'a hash')
  elseif type(added) == 'string' and string.find(bumped.err, 'not an integer', 1, true) then
    refusal = wrong(KEYS[7], "added '" .. added .. "'", 'an integer')
  elseif type(added) == 'string' and string.find(bumped.err, 'overflow', 1, true) then
    refusal = wrong(KEYS[7], "added '" .. added .. "'", 'an integer that can grow by ' .. total)
  end
  for _, r in ipairs(plan.accepted) do replies[r] = refusal end
  return replies
end
if plan.moved then redis.call('SET', KEYS[2], string.format('%d', plan.counter)) end
local all, later, task = {['0'] = {}, ['1'] = {}, ['2'] = {}, ['3'] = {}}, {}, cjson.encode(ARGV[1])
local newIds = {}   -- (gathered only when events are filtered)
if ARGV[4] == 'heard' or ARGV[4] == 'sharded' then
  for _, r in ipairs(plan.accepted) do
    for n, id in ipairs(requests[r].ids) do
      if requests[r].keys[n] then newIds[#newIds + 1] = id end
    end
  end
end
local listeners = listenersOf(ARGV[4], ARGV[2], newIds, ARGV[5])
local anyReady = false
for _, r in ipairs(plan.accepted) do
  local request = requests[r]
  local now, due = request.now, request.due
  -- (a unique key is held 24 h past the due time; each start renews it, and the task's end sets its last expiry)
  local hold = request.uniq and string.format('%d', (due and tonumber(due) - tonumber(now) or 0) + 86400000)
  for n, id in ipairs(request.ids) do
    -- (a duplicate, whose key is false, writes nothing)
    if request.keys[n] and writeTask(request, n, id, hold, all, later) then anyReady = true end
    if request.keys[n] and hears(listeners, id) then
      publishEvent(listeners, id, addedEvent(task, id, now, due))
    end
  end
  -- The JSON array of the ids as strings, as cjson would write it: ids are digits only, so they
  -- need no escaping and no encoder.
  redis.call('SET', recordKeys[r], #request.ids == 0 and '[]' or '["' .. table.concat(request.ids, '","') .. '"]',
    'PX', ARGV[3])
  replies[r] = request.ids
end
for priority, ids in pairs(all) do
  local queue = priority == '0' and KEYS[3] or KEYS[3] .. ':' .. priority
  for from = 1, #ids, slice do
    redis.call('LPUSH', queue, unpack(ids, from, math.min(from + slice - 1, #ids)))
  end
end
if anyPriority then redis.call('HSET', KEYS[9], 'priorities', '1') end
if plan.duplicates > 0 then redis.pcall('HINCRBY', KEYS[7], 'duplicates', plan.duplicates) end   -- (a count broken by hand stays so)
if anyReady and waiting == 0 and tokens == 0 then
  -- The queue was empty, so workers may be blocked: wake one (it passes the token on).
  redis.call('RPUSH', KEYS[4], '1')
end
-- After the queue's token: a worker woken by it learns the new earliest due time too, so no second one.
if #later > 0 then delayTasks(KEYS[8], KEYS[4], later) end
return replies
