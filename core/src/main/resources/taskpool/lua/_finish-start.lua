-- _finish-start: step 2 of finish-15.lua, handing out due error handlers and starting new runs.
-- Not a script of its own (see _checks.lua); it reads finish's KEYS and ARGV (see that script's
-- header).
-- Uses KINDS, listenersOf, hears, publishEvent, startedEvent, failureEvent: include _checks.lua and _events.lua first.
-- Defines: handOut(out, due), dueRecord(due), answerAgain(out, worker), renewUnique(key, id),
-- startRuns(out, ids, now, task, events, keep, worker, eventMode, kindEvents).

-- Appends the due error handlers to `out`: their count, then (id, error) pairs.
-- An entry is "<id>:<error>", the error the cancel gave the task ("canceled by X"), which the
-- handler receives even when the task was retried (or ran again) since. A bare "<id>" (queued by an
-- older cancel script) takes the task's `error`. An entry with no task id (written by hand) is
-- dropped: the worker parses the ids.
local function handOut(out, due)
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
-- A re-sent fetch (its fetch id is the claim record's): sets the next due time, appends the due
-- handlers and the runs the first call took, from the claim record, and takes nothing more.
local function answerAgain(out, worker)
  -- (a read: the first call promoted what was due; through pcall, as this branch did not check the
  -- set's type and the runs are already ended: a set of the wrong type now answers "none due")
  local first = redis.pcall('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
  out[1] = (type(first) == 'table' and not first.err and tonumber(first[2])) or 0
  local claim = redis.call('HMGET', KEYS[5], 'ids', 'due')
  handOut(out, (claim[2] or '') ~= '' and cjson.decode(claim[2]) or {})
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
end

-- A task with a unique key holds it 24 h more from each start (the add gave it 24 h past the due
-- time; its end gives it its last expiry), if the key is still its own.
local function renewUnique(key, id)
  local unique = KEYS[15] .. key
  if redis.pcall('GET', unique) == id then redis.call('PEXPIRE', unique, 86400000) end
end

-- Starts runs of the tasks `ids` popped from the queue, appending a quintuple per run taken or
-- entry dropped to `out`; returns the ids of the runs taken and their lease numbers. A hash holding garbage ends in FAILURE
-- here (and is counted and indexed as such).
local function startRuns(out, ids, now, task, events, keep, worker, eventMode, kindEvents)
  local taken, leases, garbage, garbageIds = {}, {}, 0, {}
  local startHeard = listenersOf(eventMode, events, ids, kindEvents)
  local workerJson = cjson.encode(worker)
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
      fields = redis.pcall('HMGET', key, 'status', 'attempt', 'args', 'created_at', 'lease_seq', 'key')
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
          publishEvent(startHeard, id, startedEvent(task, id, attempt, workerJson, now))
        end
        out[#out + 1] = id
        out[#out + 1] = run
        out[#out + 1] = fields[3]
        out[#out + 1] = tonumber(fields[4] or '0') or 0
        out[#out + 1] = lease
        taken[#taken + 1] = id
        leases[#leases + 1] = lease
        if fields[6] then renewUnique(fields[6], id) end
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
          publishEvent(startHeard, id, failureEvent(task, id, nil, err, now))
        end
        garbage = garbage + 1
      end
    end
  end
  if garbage > 0 then
    redis.call('HINCRBY', KEYS[6], 'failed', garbage)
    -- (Rare: a hash holding garbage. pcall: an index broken by hand must not fail the fetch, which
    -- has written already; the task is then missing from the failed listing only.)
    redis.pcall('ZADD', KEYS[8], unpack(garbageIds))
  end
  return taken, leases
end
