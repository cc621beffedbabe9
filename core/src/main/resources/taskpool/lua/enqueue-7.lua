-- enqueue-7: add tasks to the waiting queue of their task kind. One call carries one or more add
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
-- Everything that can fail is checked before the first write (or by it: the `stats.added` counter
-- is written first, through pcall, once for the whole call), so a refused request writes nothing.
-- Over `maxmemory`, Redis refuses a script's first write (and lets it continue once it has
-- written), so new requests are refused ({REDIS_REFUSED, 'OOM ...'}) having written nothing, while a
-- repeated one still gets its record. (No `#!lua` line: it would refuse even that, and Redis 6
-- cannot parse it.)
--
-- KEYS[1] taskpool:{T}:def        hash, the published definition (must exist; holds `size`)
-- KEYS[2] taskpool:{T}:seq        string, the per-task id counter (default ids)
-- KEYS[3] taskpool:{T}:waiting    list, ids waiting to run (LPUSH here, RPOP by workers)
-- KEYS[4] taskpool:{T}:wake       list, at most one wake-up token for blocked workers
-- KEYS[5] taskpool:{T}:task:      prefix of the task hashes; the script appends the id
-- KEYS[6] taskpool:{T}:req:       prefix of the request records (string, a request's result, kept
--                                 for ARGV[3] ms); the script appends each request id
--                                 (KEYS[5] and KEYS[6]: same hash tag, so the same cluster slot)
-- KEYS[7] taskpool:{T}:stats      hash of counters (added, succeeded, failed, retried, recovered)
-- ARGV[1] task id T (for the event messages)
-- ARGV[2] event channel prefix taskpool:{T}:events:
-- ARGV[3] how long to remember a request id, ms
-- ARGV[4] events: 'heard' (publish an `added` event only when someone would receive it: a
--         subscriber of its channel or any pattern subscription on this server) or 'all' (a
--         Cluster, where subscribers on other nodes receive it too)
-- ARGV[5..] the requests, one after the other, each as:
--           request id, now (epoch ms: its tasks' created_at and its events' time),
--           how many tasks must fit within `size` (0: no check), n (its tasks),
--           then n pairs: id (or '' to take the next value of the counter), args (a JSON array)
--
-- Returns one reply per request, in the order given:
--   {id, id, ...}                its tasks' ids in the order given (also for a repeated request)
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
--@include _codes.lua
--@include _events.lua
local function wrong(key, holds, expected)
  return {REPLY.WRONG_TYPE, key, holds, expected}
end

-- Every key is read before the first write, through pcall: a wrong-typed key is then a refusal
-- naming it, not an error halfway through the writes.
local bad
local function read(kind, command, key, ...)
  local value = redis.pcall(command, key, ...)
  if type(value) == 'table' and value.err then
    local held = redis.call('TYPE', key).ok
    -- A key of the right type that still cannot be read (an ACL refusal, say) is no wrong type:
    -- its error is passed on as Redis said it.
    bad = bad or (held == kind and {REPLY.REDIS_REFUSED, value.err}) or wrong(key, 'a ' .. held, 'a ' .. kind)
    return false
  end
  return value
end

-- Keys and ids go to commands in slices, should a caller send a bigger chunk: unpack() of more
-- than a few thousand values overflows Lua's C stack.
local slice = 1000
local function sliced(command, keys)
  local total = 0
  for at = 1, #keys, slice do
    total = total + redis.call(command, unpack(keys, at, math.min(at + slice - 1, #keys)))
  end
  return total
end

-- The requests. Each: rid, now, admit, from..to (its pairs in ARGV), reply (once known).
local requests, rids, recordKeys = {}, {}, {}
local at = 5
while at <= #ARGV do
  local n = tonumber(ARGV[at + 3])
  if not n or n < 0 or n % 1 ~= 0 or at + 3 + 2 * n > #ARGV or not tonumber(ARGV[at + 2]) then
    return redis.error_reply('ERR enqueue: malformed request at ARGV[' .. at .. '] (request id, now, admit, n, then n pairs)')
  end
  if rids[ARGV[at]] then
    return redis.error_reply('ERR enqueue: request id ' .. ARGV[at] .. ' is given twice in one call')
  end
  rids[ARGV[at]] = true
  requests[#requests + 1] = {rid = ARGV[at], now = ARGV[at + 1], admit = tonumber(ARGV[at + 2]), from = at + 4,
    to = at + 3 + 2 * n}
  recordKeys[#recordKeys + 1] = KEYS[6] .. ARGV[at]
  at = at + 4 + 2 * n
end
local replies = {}

-- Repeated requests get their record. A lone request reads it with GET (a wrong type is then an
-- error, named). Many read theirs with one MGET, which answers nil for a key of another type
-- too: when EXISTS counts more keys than MGET found, the unfound ones are looked at to name it.
local pending = {}
if #requests == 1 then
  local earlier = read('string', 'GET', recordKeys[1])
  if bad then return {bad} end
  if earlier then return {cjson.decode(earlier)} end
  pending[1] = 1
else
  local found = 0
  for from = 1, #recordKeys, slice do
    local values = redis.call('MGET', unpack(recordKeys, from, math.min(from + slice - 1, #recordKeys)))
    for i = 1, #values do
      if values[i] then
        found = found + 1
        replies[from + i - 1] = cjson.decode(values[i])
      end
    end
  end
  if sliced('EXISTS', recordKeys) > found then
    for r = 1, #requests do
      if not replies[r] then
        local held = redis.call('TYPE', recordKeys[r]).ok
        if held ~= 'none' then replies[r] = wrong(recordKeys[r], 'a ' .. held, 'a string') end
      end
    end
  end
  for r = 1, #requests do
    if not replies[r] then pending[#pending + 1] = r end
  end
end
if #pending == 0 then return replies end
-- Gives every request still pending the same refusal, and returns the replies.
local function refuseAll(refusal)
  for _, r in ipairs(pending) do replies[r] = refusal end
  return replies
end

local size = read('hash', 'HGET', KEYS[1], 'size')
local counterText = read('string', 'GET', KEYS[2])
local waiting = read('list', 'LLEN', KEYS[3])
-- The wake list matters only when the queue is empty (workers may be blocked then); under load
-- the queue is not, and this read is saved.
local tokens = waiting == 0 and read('list', 'LLEN', KEYS[4])
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

-- The first existing key of keys[from..to]: one EXISTS over them all (a command per slice, not
-- per task); only when it counts a hit are the keys looked at one by one, to name the first.
local function firstExisting(keys)
  if #keys == 0 or sliced('EXISTS', keys) == 0 then return nil end
  for n = 1, #keys do
    if redis.call('EXISTS', keys[n]) == 1 then return n end
  end
end

-- Decides every pending request in order, against the state the accepted ones before it leave.
-- Explicit ids move the counter past the largest of them, so that default ids never land on one;
-- ids taken earlier in the call count as taken. With checkKeys false, no key is looked at (the
-- caller then checks every accepted key with one EXISTS, and decides again with checkKeys true
-- only when one exists), which spares a command per request.
local function decide(checkKeys)
  local plan = {counter = tonumber(counterText), moved = false, waiting = waiting, accepted = {}, keys = {}}
  local taken = {}
  for _, r in ipairs(pending) do
    local request = requests[r]
    local refusal
    local count = (request.to - request.from + 1) / 2
    if request.admit > 0 and plan.waiting + request.admit > size then refusal = {REPLY.QUEUE_FULL} end
    local defaults, highest, given, mine = 0, 0, {}, {}
    if not refusal then
      for i = request.from, request.to, 2 do
        local id = ARGV[i]
        if id == '' then
          defaults = defaults + 1
        elseif taken[id] or mine[id] then
          refusal = {REPLY.ID_TAKEN, id}
          break
        else
          mine[id] = true
          given[#given + 1] = id
          if tonumber(id) > highest then highest = tonumber(id) end
        end
      end
    end
    local givenKeys = {}
    if not refusal and checkKeys and #given > 0 then
      for n, id in ipairs(given) do givenKeys[n] = KEYS[5] .. id end
      local hit = firstExisting(givenKeys)
      if hit then refusal = {REPLY.ID_TAKEN, given[hit]} end
    end
    local first = math.max(plan.counter, highest)
    -- Ids end at 2^53-1. Past 2^53 Lua's numbers stop counting (n + 1 == n), so the loop below
    -- would never end and would hold Redis BUSY: a counter at its end (or set past it by hand) refuses.
    if not refusal and defaults > 0 and first > 9007199254740991 - defaults then
      refusal = {REPLY.IDS_EXHAUSTED, (first == plan.counter and not plan.moved) and counterText or string.format('%d', first), defaults}
    end
    local defaultIds, defaultKeys = {}, {}
    if not refusal then
      for n = 1, defaults do
        defaultIds[n] = string.format('%d', first + n)
        defaultKeys[n] = KEYS[5] .. defaultIds[n]
      end
      if checkKeys then
        local hit = firstExisting(defaultKeys)
        if hit then refusal = {REPLY.NEXT_ID_TAKEN, defaultIds[hit]} end
      end
    end
    if refusal then
      replies[r] = refusal
    else
      -- Accepted: its ids in the order given, and the keys they write.
      local ids, keys, used = {}, {}, 0
      for i = request.from, request.to, 2 do
        if ARGV[i] == '' then
          used = used + 1
          ids[#ids + 1], keys[#keys + 1] = defaultIds[used], defaultKeys[used]
        else
          ids[#ids + 1], keys[#keys + 1] = ARGV[i], KEYS[5] .. ARGV[i]
        end
        if anyGiven then taken[ids[#ids]] = true end
        plan.keys[#plan.keys + 1] = keys[#keys]
      end
      request.ids, request.keys = ids, keys
      local counter = defaults > 0 and first + defaults or first
      if counter ~= plan.counter then plan.counter, plan.moved = counter, true end
      plan.waiting = plan.waiting + count
      plan.accepted[#plan.accepted + 1] = r
      replies[r] = nil
    end
  end
  return plan
end

local plan = decide(false)
if #plan.keys > 0 and sliced('EXISTS', plan.keys) > 0 then
  plan = decide(true)
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
local all, task = {}, cjson.encode(ARGV[1])
local listeners = true   -- (the ids are gathered only when events are filtered)
if ARGV[4] == 'heard' then
  local newIds = {}
  for _, r in ipairs(plan.accepted) do
    for _, id in ipairs(requests[r].ids) do newIds[#newIds + 1] = id end
  end
  listeners = listenersOf(ARGV[4], ARGV[2], newIds)
end
for _, r in ipairs(plan.accepted) do
  local request = requests[r]
  local now = request.now
  for n, id in ipairs(request.ids) do
    local key = request.keys[n]
    all[#all + 1] = id
    -- Only what a new task holds: `current`, `total`, `message` and `attempt` are written when they
    -- change (readers take 0, 0, '' and 0 when they are missing), and the task and id are not
    -- written at all (the key names both), which keeps the hash small.
    redis.call('HSET', key, 'status', 'WAITING', 'args', ARGV[request.from + 2 * n - 1], 'created_at', now)
    if hears(listeners, id) then
      redis.call('PUBLISH', ARGV[2] .. id,
        '{"event":"added","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","at":' .. now .. '}')
    end
  end
  -- The JSON array of the ids as strings, as cjson would write it: ids are digits only, so they
  -- need no escaping and no encoder.
  redis.call('SET', recordKeys[r], #request.ids == 0 and '[]' or '["' .. table.concat(request.ids, '","') .. '"]',
    'PX', ARGV[3])
  replies[r] = request.ids
end
for from = 1, #all, slice do
  redis.call('LPUSH', KEYS[3], unpack(all, from, math.min(from + slice - 1, #all)))
end
if #all > 0 and waiting == 0 and tokens == 0 then
  -- The queue was empty, so workers may be blocked: wake one (it passes the token on).
  redis.call('RPUSH', KEYS[4], '1')
end
return replies
