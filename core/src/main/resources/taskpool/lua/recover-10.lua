#!lua flags=allow-oom
-- recover-10: put tasks whose lease expired (their worker died, hung or lost Redis) back in the
-- queue, counting the lost run as a failed one; a task out of runs ends in FAILURE.
-- allow-oom: recovering queued work is part of draining a full Redis (see finish-15).
-- All or nothing: every key it writes, and the definition and counters it relies on, are checked
-- before its first write; a wrong type or a garbage field is an error naming the key, and nothing
-- is changed. A member of `leases` that is no task id (e.g. 'abc'), or whose key is no hash, is
-- removed from `leases` on its own and reported; it never stops the others.
--
-- KEYS[1] taskpool:{T}:leases   sorted set, id -> lease deadline
-- KEYS[2] taskpool:{T}:waiting  list of waiting ids
-- KEYS[3] taskpool:{T}:wake     wake-up token list
-- KEYS[4] taskpool:{T}:def      the published definition (attempts, keep)
-- KEYS[5] taskpool:{T}:task:    prefix of the task hashes
-- KEYS[6] taskpool:{T}:stats    hash of counters
-- KEYS[7] taskpool:{T}:failed   sorted set, id -> finished_at of FAILURE tasks (a task out of runs goes in)
-- KEYS[8] taskpool:{T}:succeeded list, "<finished_at>:<id>" of SUCCESS tasks, newest at the right
-- KEYS[9] taskpool:{T}:unique:   prefix of the unique keys: a task requeued keeps its key; one out
--                                of runs ends, and its key is held `unique_for` (def), as at any end
--                                (a task of priority p goes back to KEYS[2] .. ':' .. p)
-- KEYS[10] taskpool:{T}:flow     hash the fetches read the flow controls from: the controls the
--                                definition names are restored there when missing or changed (a
--                                hash deleted by hand), so a cap or rate is back within one pass
-- Every call also prunes both indexes of the entries past retention (ARGV[6]; none when it is
-- ''): the finish script prunes an index only when it writes to it, so without this the last
-- entries of a kind that no longer runs would stay after their tasks expired.
-- ARGV[1] now, epoch ms
-- ARGV[2] the most leases to handle in one call
-- ARGV[3] task id T (for the event messages)
-- ARGV[4] event channel prefix taskpool:{T}:events:
-- ARGV[5] attempts of the recovering worker's own definition, used when KEYS[4] is missing (a
--         deleted `def` must not turn every recovered task into a FAILURE); '' for none
-- ARGV[6] keep (s) of that definition, likewise
-- ARGV[7] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[8] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {requeued count, F, F failed ids, then pairs: dropped member, reason}: the failed ids
-- need their `error` event.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _checks.lua
--@include _priority.lua
--@include _indexes.lua
--@include _events.lua

local function given(value) if value and value ~= '' then return value end end
if given(ARGV[6]) then
  local problem = wrongType(KEYS[7], 'zset') or wrongType(KEYS[8], 'list')
  if problem then return problem end
  local before = tonumber(ARGV[1]) - tonumber(ARGV[6]) * 1000
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. before)
  -- At most 10,000 entries of `succeeded` per call (the next call goes on), so that a long backlog
  -- never holds Redis for long.
  for _ = 1, 10 do
    local _, dropped = pruneFinishedList(KEYS[8], before, 1000)
    if dropped < 1000 then break end
  end
end
-- The definition's flow controls, where the fetches read them (one HMGET when the kind has none).
local controls = {'max_running', 'rate_limit', 'rate_per', 'unique_for'}
local wanted = redis.pcall('HMGET', KEYS[4], unpack(controls))
if not wanted.err and (wanted[1] or wanted[2] or wanted[4]) then
  local held = redis.pcall('HMGET', KEYS[10], unpack(controls))
  if not held.err then
    local fix = {}
    for i, field in ipairs(controls) do
      if wanted[i] and held[i] ~= wanted[i] then fix[#fix + 1], fix[#fix + 2] = field, wanted[i] end
    end
    if #fix > 0 then redis.call('HSET', KEYS[10], unpack(fix)) end
  end
end
local expired = redis.pcall('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if expired.err then return readFailed(KEYS[1], 'zset', expired) end
if #expired == 0 then return {0, 0} end
-- Checks cost a few reads, and only when some lease expired: never on the hot path.
local problem = wrongType(KEYS[2], 'list') or wrongType(KEYS[3], 'list') or wrongType(KEYS[7], 'zset')
if problem then return problem end
local def = redis.pcall('HMGET', KEYS[4], 'attempts', 'keep', 'unique_for')
if def.err then return readFailed(KEYS[4], 'hash', def) end
if def[1] and not string.match(def[1], '^%d+$') then return badValue(KEYS[4], 'attempts', def[1], 'an integer') end
if def[2] and not string.match(def[2], '^%d+$') then return badValue(KEYS[4], 'keep', def[2], 'an integer') end
local counters = redis.pcall('HMGET', KEYS[6], 'recovered', 'failed')
if counters.err then return readFailed(KEYS[6], 'hash', counters) end
if counters[1] and not string.match(counters[1], '^-?%d+$') then
  return badValue(KEYS[6], 'recovered', counters[1], 'an integer')
end
if counters[2] and not string.match(counters[2], '^-?%d+$') then
  return badValue(KEYS[6], 'failed', counters[2], 'an integer')
end

local runs = tonumber(def[1] or given(ARGV[5]) or '0') + 1
local keep = tonumber(def[2] or given(ARGV[6]) or '86400') * 1000
local task = cjson.encode(ARGV[3])
local requeued, failedIds, dropped = 0, {}, {}
for _, id in ipairs(expired) do
  local key = KEYS[5] .. id
  local fields
  if #id > 16 or not string.match(id, '^[1-9]%d*$') or tonumber(id) > 9007199254740991 then
    dropped[#dropped + 1] = id
    dropped[#dropped + 1] = 'not a task id (an integer from 1 to 2^53-1)'
  else
    fields = redis.pcall('HMGET', key, 'status', 'attempt', 'worker', 'priority', 'key')
    if fields.err then
      dropped[#dropped + 1] = id
      dropped[#dropped + 1] = key .. ' holds ' .. (KINDS[redis.call('TYPE', key).ok] or 'something else') ..
        ', not a task hash'
      fields = nil
    end
  end
  redis.call('ZREM', KEYS[1], id)
  if fields and fields[1] == 'RUNNING' then
    local attempt = tonumber(fields[2]) or runs
    -- What is known: the lease ran out without being renewed. Why (a crash, a hang, a network
    -- split) is not, so the error does not claim one.
    local err = 'lease expired: worker ' .. (fields[3] or '?') .. ' did not renew it during run ' .. attempt ..
      ' (it died, hung or could not reach Redis)'
    redis.call('HINCRBY', KEYS[6], 'recovered', 1)
    if attempt >= runs then
      -- `lost_at`: the run's own completion, should it still come, must not count as a repeat of it.
      redis.call('HSET', key, 'status', 'FAILURE', 'error', err, 'finished_at', ARGV[1], 'lost_at', ARGV[1])
      redis.call('PEXPIRE', key, keep)
      local unique = fields[5] and KEYS[9] .. fields[5]
      if unique and redis.pcall('GET', unique) == id then
        local keepFor = tonumber(def[3] or '0') or 0
        if keepFor > 0 then redis.call('PEXPIRE', unique, string.format('%d', keepFor)) else redis.call('DEL', unique) end
      end
      redis.call('HINCRBY', KEYS[6], 'failed', 1)
      publishTo(ARGV[7], ARGV[4] .. id, ARGV[8], failureEvent(task, id, attempt, err, ARGV[1]))
      failedIds[#failedIds + 1] = id
    else
      redis.call('HSET', key, 'status', 'WAITING', 'error', err)
      -- (a list of its priority broken by hand: the default queue takes it, never lost)
      local queue = queueOf(KEYS[2], fields[4])
      if not ({list = true, none = true})[redis.call('TYPE', queue).ok] then queue = KEYS[2] end
      redis.call('RPUSH', queue, id)
      publishTo(ARGV[7], ARGV[4] .. id, ARGV[8], retryEvent(task, id, attempt, err, ARGV[1]))
      requeued = requeued + 1
    end
  end
end
if #failedIds > 0 then
  local entries = {}
  for _, id in ipairs(failedIds) do
    entries[#entries + 1] = ARGV[1]
    entries[#entries + 1] = id
  end
  redis.call('ZADD', KEYS[7], unpack(entries))
end
if requeued > 0 and redis.call('LLEN', KEYS[3]) == 0 then redis.call('RPUSH', KEYS[3], '1') end
local out = {requeued, #failedIds}
for _, id in ipairs(failedIds) do out[#out + 1] = id end
for _, entry in ipairs(dropped) do out[#out + 1] = entry end
return out
