-- finish-6: one worker's round trip: end a batch of runs (SUCCESS or FAILURE, each only if the
-- worker still holds its lease), then move up to N waiting tasks to RUNNING under new leases.
-- Either part may be empty: a plain fetch ends nothing, a plain completion fetches nothing.
-- Idempotent: a repeated completion (same token) answers "already done", and a repeated fetch id
-- returns the runs the first call took instead of taking more, so a command that Lettuce re-sends
-- after a reconnect changes nothing.
--
-- KEYS[1] taskpool:{T}:waiting          list, ids waiting to run (oldest at the right)
-- KEYS[2] taskpool:{T}:leases           sorted set, id -> lease deadline (epoch ms)
-- KEYS[3] taskpool:{T}:wake             list, the wake-up token for blocked workers
-- KEYS[4] taskpool:{T}:task:            prefix of the task hashes
-- KEYS[5] taskpool:{T}:claim:<worker>   hash, this worker's last fetch: `fetch` id and `ids`
-- KEYS[6] taskpool:{T}:stats            hash of counters
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
--
-- Returns {K results, then id, attempt, args, id, attempt, args, ... for the runs taken}; a result is
--   1 done, 2 already done by this same run, -3 the task does not exist,
--   -4 the lease is not the worker's any more (recovered elsewhere; nothing was written).
-- The token of a run taken is "<worker id>/<attempt>". An id whose hash is gone, or is already
-- RUNNING/SUCCESS/FAILURE, is dropped from the queue; a hash holding garbage (an unknown status,
-- an attempt that is no number) cannot run and ends in FAILURE with an error naming the field.
local now, task, events, keep, worker = ARGV[1], cjson.encode(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local out = {}

-- 1. End the runs. The usual case costs one read: the lease still holds the run's token
-- ("<worker id>/<attempt>", so the attempt comes from it); anything else is told apart after.
local k = tonumber(ARGV[10])
local succeeded, failed, ended = 0, 0, {}
for i = 0, k - 1 do
  local base = 11 + i * 4
  local id, token, status, payload = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local key = KEYS[4] .. id
  local result
  if redis.call('HGET', key, 'lease') == token then
    local message
    if status == 'SUCCESS' then
      redis.call('HSET', key, 'status', status, 'response', payload, 'finished_at', now, 'done_by', token, 'lease', '')
      message = '{"event":"success","task":' .. task .. ',"id":' .. id .. ',"status":"SUCCESS","attempt":' ..
        string.match(token, '(%d+)$') .. ',"response":' .. payload .. ',"at":' .. now .. '}'
      succeeded = succeeded + 1
    else
      redis.call('HSET', key, 'status', status, 'error', payload, 'finished_at', now, 'done_by', token, 'lease', '')
      message = '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","attempt":' ..
        string.match(token, '(%d+)$') .. ',"error":' .. cjson.encode(payload) .. ',"at":' .. now .. '}'
      failed = failed + 1
    end
    redis.call('PEXPIRE', key, keep)
    redis.call('PUBLISH', events .. id, message)
    ended[#ended + 1] = id
    result = 1
  else
    local state = redis.call('HMGET', key, 'done_by', 'status')
    if not state[2] then
      result = -3
    elseif state[1] == token then
      result = 2
    else
      result = -4
    end
  end
  out[#out + 1] = result
end
if #ended > 0 then redis.call('ZREM', KEYS[2], unpack(ended)) end
if succeeded > 0 then redis.call('HINCRBY', KEYS[6], 'succeeded', succeeded) end
if failed > 0 then redis.call('HINCRBY', KEYS[6], 'failed', failed) end

-- 2. Take new runs.
local max = tonumber(ARGV[6])
if max == 0 then return out end
if redis.call('HGET', KEYS[5], 'fetch') == ARGV[8] then
  for id in string.gmatch(redis.call('HGET', KEYS[5], 'ids') or '', '[^,]+') do
    local run = redis.call('HMGET', KEYS[4] .. id, 'attempt', 'args', 'lease')
    if run[3] == worker .. '/' .. run[1] then
      out[#out + 1] = id
      out[#out + 1] = tonumber(run[1])
      out[#out + 1] = run[2]
    end
  end
  return out
end
local ids = redis.call('RPOP', KEYS[1], max)
if not ids then return out end
local taken, leases, garbage = {}, {}, 0
local started = ',"status":"RUNNING","attempt":'
local startedBy = ',"worker":' .. cjson.encode(worker) .. ',"at":' .. now .. '}'
for _, id in ipairs(ids) do
  local key = KEYS[4] .. id
  local fields = redis.call('HMGET', key, 'status', 'attempt', 'args')
  local status, attempt = fields[1], tonumber(fields[2] or '0')
  if attempt and attempt ~= math.floor(attempt) then attempt = nil end
  if status == 'WAITING' and attempt then
    local run = attempt + 1
    attempt = tostring(run)   -- once: each use of a number as text formats it anew
    redis.call('HSET', key, 'status', 'RUNNING', 'started_at', now, 'worker', worker,
      'lease', worker .. '/' .. attempt, 'attempt', attempt)
    redis.call('PUBLISH', events .. id, '{"event":"started","task":' .. task .. ',"id":' .. id .. started .. attempt .. startedBy)
    leases[#leases + 1] = ARGV[7]
    leases[#leases + 1] = id
    out[#out + 1] = id
    out[#out + 1] = run
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
    redis.call('HSET', key, 'status', 'FAILURE', 'error', err, 'finished_at', now)
    redis.call('PEXPIRE', key, keep)
    redis.call('PUBLISH', events .. id,
      '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","error":' ..
      cjson.encode(err) .. ',"at":' .. now .. '}')
    garbage = garbage + 1
  end
end
if #leases > 0 then redis.call('ZADD', KEYS[2], unpack(leases)) end
if garbage > 0 then redis.call('HINCRBY', KEYS[6], 'failed', garbage) end
redis.call('HSET', KEYS[5], 'fetch', ARGV[8], 'ids', table.concat(taken, ','))
redis.call('PEXPIRE', KEYS[5], ARGV[9])
-- Pass the baton: more is waiting than this worker could take, so wake another one.
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
