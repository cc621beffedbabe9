#!lua flags=allow-oom
-- finish-10: one worker's round trip: end a batch of runs (SUCCESS or FAILURE, each only if the
-- worker still holds its lease), then move up to N waiting tasks to RUNNING under new leases.
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
-- Returns {K results, H, then H pairs (id, error) of due error handlers, then quintuples for the
-- runs taken and the ids dropped}; a result is
--   DONE, ALREADY_DONE (by this same run), TASK_MISSING (or its key is no hash), LEASE_LOST (the
--   lease is not the worker's any more: recovered elsewhere, or canceled; nothing was written).
-- A re-sent fetch returns the same due handlers as the first (kept in the claim record).
-- A run taken is (id, attempt >= 1, args, created_at or 0, lease number >= 1); its token is
-- "<worker id>/<lease number>", which the hash holds as its `worker` and `lease_seq` fields (no field
-- of its own: a run holds the lease while the task is RUNNING with that worker and lease number).
-- `lease_seq` counts every lease ever handed out for the task (a fetch here, a retry in place in
-- retry-3) and nothing resets it, not even an operator's retry (which resets `attempt`): so no two
-- runs of a task ever share a token, and a cancel aimed at one run can never stop a later one.
-- (created_at, read with the fields the fetch reads anyway, gives the worker's wait-time metric).
-- An entry of the queue that is no task id (e.g. 'abc') or whose key is not a hash is dropped from
-- the queue and returned as (entry, 0, reason, 0, 0). An id whose hash is gone, or is already
-- RUNNING/SUCCESS/FAILURE, is dropped silently (the normal race with recovery and expiry); a hash
-- holding garbage (an unknown status, an attempt or lease_seq that is no integer) cannot run and
-- ends in FAILURE naming the field.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
--@include _indexes.lua
--@include _events.lua
local now, task, events, keep, worker = ARGV[1], cjson.encode(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local k, max = tonumber(ARGV[10]), tonumber(ARGV[6])
local eventMode = ARGV[11 + 4 * (k or 0)]
local function notCounter(key, fields, values)
  for i, value in ipairs(values) do
    if value and not string.match(value, '^-?%d+$') then
      return badValue(key, fields[i], value, 'an integer')
    end
  end
end

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
local dueCount, paused = 0, false
if fetching then
  -- One command in the usual case (neither a pause nor a due handler): EXISTS counts both keys.
  if redis.call('EXISTS', KEYS[9], KEYS[10]) > 0 then
    paused = redis.call('EXISTS', KEYS[9]) == 1
    dueCount = redis.pcall('LLEN', KEYS[10])
    if type(dueCount) == 'table' and dueCount.err then return readFailed(KEYS[10], 'list', dueCount) end
  end
  -- Paused: nothing leaves the queue (running tasks still end, due handlers are still handed out).
  if not paused then
    ids = redis.pcall('RPOP', KEYS[1], max)
    if type(ids) == 'table' and ids.err then return readFailed(KEYS[1], 'list', ids) end
  end
end
local out = {}

-- 1. End the runs. The usual case costs one read: the task is RUNNING under the run's token
-- ("<worker id>/<lease number>": its `worker` and `lease_seq`). After the run ended it, the same fields
-- recognise a repeat ("already done"), unless a cancel (`canceled_at`) or the recoverer
-- (`lost_at`) ended it instead: then the run had lost it.
local succeeded, failed, ended, succeededIndex, failedIndex = 0, 0, {}, {}, {}
local endHeard = true   -- (the ids are gathered only when events are filtered)
if eventMode == 'heard' and k > 0 then
  local ending = {}
  for i = 0, k - 1 do ending[#ending + 1] = ARGV[11 + i * 4] end
  endHeard = listenersOf(eventMode, events, ending)
end
for i = 0, k - 1 do
  local base = 11 + i * 4
  local id, token, status, payload = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local key = KEYS[4] .. id
  local result
  local state = redis.pcall('HMGET', key, 'status', 'worker', 'lease_seq', 'attempt')
  local held = not state.err and state[2] and state[3] and state[2] .. '/' .. state[3] == token
  if state.err then
    result = REPLY.TASK_MISSING   -- the key is no task hash: there is no task to end
  elseif held and state[1] == 'RUNNING' then
    local message
    if status == 'SUCCESS' then
      redis.call('HSET', key, 'status', status, 'response', payload, 'finished_at', now)
      succeededIndex[#succeededIndex + 1] = now .. ':' .. id
      if hears(endHeard, id) then
        message = '{"event":"success","task":' .. task .. ',"id":' .. id .. ',"status":"SUCCESS","attempt":' ..
          string.format('%d', tonumber(state[4]) or 0) .. ',"response":' .. payload .. ',"at":' .. now .. '}'
      end
      succeeded = succeeded + 1
    else
      redis.call('HSET', key, 'status', status, 'error', payload, 'finished_at', now)
      failedIndex[#failedIndex + 1] = now
      failedIndex[#failedIndex + 1] = id
      if hears(endHeard, id) then
        message = '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","attempt":' ..
          string.format('%d', tonumber(state[4]) or 0) .. ',"error":' .. cjson.encode(payload) .. ',"at":' .. now .. '}'
      end
      failed = failed + 1
    end
    redis.call('PEXPIRE', key, keep)
    if message then redis.call('PUBLISH', events .. id, message) end
    ended[#ended + 1] = id
    result = REPLY.DONE
  elseif not state[1] then
    result = REPLY.TASK_MISSING
  elseif held and (state[1] == 'SUCCESS' or state[1] == 'FAILURE') then
    local lost = redis.call('HMGET', key, 'canceled_at', 'lost_at')
    result = (lost[1] or lost[2]) and REPLY.LEASE_LOST or REPLY.ALREADY_DONE
  else
    result = REPLY.LEASE_LOST
  end
  out[#out + 1] = result
end
if #ended > 0 then redis.call('ZREM', KEYS[2], unpack(ended)) end
if succeeded > 0 then redis.call('HINCRBY', KEYS[6], 'succeeded', succeeded) end
if failed > 0 then redis.call('HINCRBY', KEYS[6], 'failed', failed) end
-- The indexes: one command each (k is at most a few hundred: unpack stays far from Lua's stack
-- limit). `succeeded` is a list: an entry costs a few bytes in its listpack and an append no search,
-- where a sorted-set entry costs about 100 bytes of skiplist and dictionary.
if #succeededIndex > 0 then redis.call('RPUSH', KEYS[7], unpack(succeededIndex)) end
if #failedIndex > 0 then redis.call('ZADD', KEYS[8], unpack(failedIndex)) end

-- 2. Due error handlers, then new runs.
-- An entry is "<id>:<error>", the error the cancel gave the task ("canceled by X"), which the
-- handler receives even when the task was retried (or ran again) since. A bare "<id>" (queued by an
-- older cancel script) takes the task's `error`. An entry with no task id (written by hand) is
-- dropped: the worker parses the ids.
local function handOut(due)
  out[#out + 1] = 0
  local count = #out
  for _, entry in ipairs(due) do
    local id, err = string.match(entry, '^([1-9]%d*):(.*)$')
    if not id and string.match(entry, '^[1-9]%d*$') then
      id, err = entry, redis.pcall('HGET', KEYS[4] .. entry, 'error')
    end
    if id and #id <= 16 then
      out[#out + 1] = id
      out[#out + 1] = type(err) == 'string' and err or 'canceled'
    end
  end
  out[count] = (#out - count) / 2
end
-- The due entries a fetch handed out, as its claim record keeps them for a re-sent fetch (JSON: an
-- error text may hold any character).
local function dueRecord(due)
  return #due > 0 and cjson.encode(due) or ''
end
if max == 0 then
  out[#out + 1] = 0
  return out
end
if claimed == ARGV[8] then
  local claim = redis.call('HMGET', KEYS[5], 'ids', 'due')
  handOut((claim[2] or '') ~= '' and cjson.decode(claim[2]) or {})
  for id in string.gmatch(claim[1] or '', '[^,]+') do
    local run = redis.call('HMGET', KEYS[4] .. id, 'attempt', 'args', 'worker', 'created_at', 'status', 'lease_seq')
    if run[5] == 'RUNNING' and run[3] == worker then
      out[#out + 1] = id
      out[#out + 1] = tonumber(run[1])
      out[#out + 1] = run[2]
      out[#out + 1] = tonumber(run[4] or '0') or 0
      out[#out + 1] = tonumber(run[6] or '0') or 0
    end
  end
  return out
end
local due = {}
if dueCount > 0 then due = redis.call('RPOP', KEYS[10], 100) end
handOut(due)
if not ids then   -- (popped in step 0; none when the queue was empty or the kind is paused)
  if #due > 0 then
    redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', '', 'due', dueRecord(due))
    redis.call('PEXPIRE', KEYS[5], ARGV[9])
  end
  return out
end
local taken, garbage, garbageIds = {}, 0, {}
local startHeard = listenersOf(eventMode, events, ids)
local started = ',"status":"RUNNING","attempt":'
local startedBy = ',"worker":' .. cjson.encode(worker) .. ',"at":' .. now .. '}'
for _, id in ipairs(ids) do
  local key = KEYS[4] .. id
  -- Ids are integers from 1 to 2^53-1, written in canonical form: anything else is no task and
  -- would break the event JSON and the workers' parsing.
  local fields
  if #id > 16 or not string.match(id, '^[1-9]%d*$') or tonumber(id) > 9007199254740991 then
    out[#out + 1] = id
    out[#out + 1] = 0
    out[#out + 1] = 'not a task id (an integer from 1 to 2^53-1)'
    out[#out + 1] = 0
    out[#out + 1] = 0
  else
    fields = redis.pcall('HMGET', key, 'status', 'attempt', 'args', 'created_at', 'lease_seq')
    if fields.err then
      out[#out + 1] = id
      out[#out + 1] = 0
      out[#out + 1] = key .. ' holds ' .. (KINDS[redis.call('TYPE', key).ok] or 'something else') .. ', not a task hash'
      out[#out + 1] = 0
      out[#out + 1] = 0
      fields = nil
    end
  end
  if fields then
    local status, attempt, lease = fields[1], tonumber(fields[2] or '0'), tonumber(fields[5] or '0')
    if attempt and (attempt ~= math.floor(attempt) or attempt < 0) then attempt = nil end
    if lease and (lease ~= math.floor(lease) or lease < 0 or lease >= 9007199254740991) then lease = nil end
    if status == 'WAITING' and attempt and lease then
      local run = attempt + 1
      lease = lease + 1
      -- Formatted once (each use of a number as text formats it anew), and with string.format,
      -- which costs a third of tostring's general number formatting.
      attempt = string.format('%d', run)
      redis.call('HSET', key, 'status', 'RUNNING', 'started_at', now, 'worker', worker, 'attempt', attempt,
        'lease_seq', string.format('%d', lease))
      if hears(startHeard, id) then
        redis.call('PUBLISH', events .. id, '{"event":"started","task":' .. task .. ',"id":' .. id .. started .. attempt .. startedBy)
      end
      out[#out + 1] = id
      out[#out + 1] = run
      out[#out + 1] = fields[3]
      out[#out + 1] = tonumber(fields[4] or '0') or 0
      out[#out + 1] = lease
      taken[#taken + 1] = id
    elseif status and status ~= 'RUNNING' and status ~= 'SUCCESS' and status ~= 'FAILURE' then
      local err
      if status ~= 'WAITING' then
        err = "the task hash holds status '" .. status .. "', expected WAITING"
      elseif not attempt then
        err = "the task hash holds attempt '" .. tostring(fields[2]) .. "', expected an integer from 0"
        redis.call('HSET', key, 'attempt', 0)   -- the error keeps what it held; the hash stays readable
      else
        err = "the task hash holds lease_seq '" .. tostring(fields[5]) .. "', expected an integer from 0"
        redis.call('HDEL', key, 'lease_seq')   -- (likewise; an operator's retry then counts leases anew)
      end
      redis.call('HSET', key, 'status', 'FAILURE', 'error', err, 'finished_at', now)
      redis.call('PEXPIRE', key, keep)
      garbageIds[#garbageIds + 1] = now
      garbageIds[#garbageIds + 1] = id
      if hears(startHeard, id) then
        redis.call('PUBLISH', events .. id,
          '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","error":' ..
          cjson.encode(err) .. ',"at":' .. now .. '}')
      end
      garbage = garbage + 1
    end
  end
end
if #taken > 0 then
  -- The leases key is small (the runs in flight), so Redis keeps it as a listpack, where an insert
  -- walks the entries in (score, member) order to its place: the whole batch has one deadline, the
  -- latest, so each insert walks past the batch's earlier members, comparing them as strings. Added
  -- in descending string order, each new member sorts before those and stops at the first one
  -- (about 5,000 fewer Redis instructions per task at batches of 50, callgrind).
  local order = {unpack(taken)}
  table.sort(order)
  local leases = {}
  for i = #order, 1, -1 do
    leases[#leases + 1] = ARGV[7]
    leases[#leases + 1] = order[i]
  end
  redis.call('ZADD', KEYS[2], unpack(leases))
end
if garbage > 0 then
  redis.call('HINCRBY', KEYS[6], 'failed', garbage)
  -- (Rare: a hash holding garbage. pcall: an index broken by hand must not fail the fetch, which
  -- has written already; the task is then missing from the failed listing only.)
  redis.pcall('ZADD', KEYS[8], unpack(garbageIds))
end
redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', table.concat(taken, ','), 'due', dueRecord(due))
redis.call('PEXPIRE', KEYS[5], ARGV[9])
-- Pass the baton: more is waiting than this worker could take, so wake another one. (RPOP gave
-- fewer than asked only when it emptied the queue: then there is nothing to count.)
if tokens == 0 and #ids == max and redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
