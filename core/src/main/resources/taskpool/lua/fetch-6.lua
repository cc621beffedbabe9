-- fetch-6: move up to N waiting tasks to RUNNING under leases held by one worker.
-- Idempotent per fetch id: a re-sent fetch (after a reconnect) returns the tasks the first one
-- took instead of taking more, so no task is left running under a lease nobody knows of.
--
-- KEYS[1] taskpool:{T}:waiting          list, ids waiting to run (oldest at the right)
-- KEYS[2] taskpool:{T}:leases           sorted set, id -> lease deadline (epoch ms)
-- KEYS[3] taskpool:{T}:wake             list, the wake-up token for blocked workers
-- KEYS[4] taskpool:{T}:task:            prefix of the task hashes
-- KEYS[5] taskpool:{T}:claim:<worker>   hash, this worker's last fetch: `fetch` id and `ids`
-- KEYS[6] taskpool:{T}:stats            hash of counters
-- ARGV[1] the most tasks to take (the worker's free slots)
-- ARGV[2] now, epoch ms
-- ARGV[3] lease deadline, epoch ms
-- ARGV[4] worker id
-- ARGV[5] task id T (for the event messages)
-- ARGV[6] event channel prefix taskpool:{T}:events:
-- ARGV[7] fetch id (unique per call)
-- ARGV[8] how long the claim record lives, ms
-- ARGV[9] retention of a task failed here, ms (see below)
--
-- Returns a flat array: id, attempt, args, id, attempt, args, ...  (empty: nothing waiting).
-- The lease token of each run is "<worker id>/<attempt>".
-- An id whose hash is gone, or is RUNNING/SUCCESS/FAILURE already, is dropped from the queue.
-- A hash that holds garbage (an unknown status, an attempt that is no number) cannot run: it
-- ends in FAILURE here, with an error naming the field.
local out = {}
if redis.call('HGET', KEYS[5], 'fetch') == ARGV[7] then
  for id in string.gmatch(redis.call('HGET', KEYS[5], 'ids') or '', '[^,]+') do
    local key = KEYS[4] .. id
    local run = redis.call('HMGET', key, 'attempt', 'args', 'lease')
    if run[3] == ARGV[4] .. '/' .. run[1] then
      out[#out + 1] = id
      out[#out + 1] = tonumber(run[1])
      out[#out + 1] = run[2]
    end
  end
  return out
end

local ids = redis.call('RPOP', KEYS[1], ARGV[1])
if not ids then return out end
local task = cjson.encode(ARGV[5])
local taken = {}
for _, id in ipairs(ids) do
  local key = KEYS[4] .. id
  local fields = redis.call('HMGET', key, 'status', 'attempt', 'args')
  local status, attempt = fields[1], tonumber(fields[2] or '0')
  if status == 'WAITING' and attempt then
    attempt = attempt + 1
    redis.call('HSET', key, 'status', 'RUNNING', 'started_at', ARGV[2], 'worker', ARGV[4],
      'lease', ARGV[4] .. '/' .. attempt, 'attempt', attempt)
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('PUBLISH', ARGV[6] .. id,
      '{"event":"started","task":' .. task .. ',"id":' .. id .. ',"status":"RUNNING","attempt":' ..
      attempt .. ',"worker":' .. cjson.encode(ARGV[4]) .. ',"at":' .. ARGV[2] .. '}')
    out[#out + 1] = id
    out[#out + 1] = attempt
    out[#out + 1] = fields[3]
    taken[#taken + 1] = id
  elseif status and status ~= 'RUNNING' and status ~= 'SUCCESS' and status ~= 'FAILURE' then
    local err
    if status ~= 'WAITING' then
      err = "the task hash holds status '" .. status .. "', expected WAITING"
    else
      err = "the task hash holds attempt '" .. tostring(fields[2]) .. "', expected an integer"
      redis.call('HSET', key, 'attempt', 0)   -- the error keeps what it held; the hash stays readable
    end
    redis.call('HSET', key, 'status', 'FAILURE', 'error', err, 'finished_at', ARGV[2])
    redis.call('PEXPIRE', key, ARGV[9])
    redis.call('HINCRBY', KEYS[6], 'failed', 1)
    redis.call('PUBLISH', ARGV[6] .. id,
      '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","error":' ..
      cjson.encode(err) .. ',"at":' .. ARGV[2] .. '}')
  end
end
redis.call('HSET', KEYS[5], 'fetch', ARGV[7], 'ids', table.concat(taken, ','))
redis.call('PEXPIRE', KEYS[5], ARGV[8])
-- Pass the baton: more is waiting than this worker could take, so wake another one.
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
