-- fetch-4: move up to N waiting tasks to RUNNING under a lease held by one worker.
--
-- KEYS[1] taskpool:{T}:waiting  list, ids waiting to run (oldest at the right)
-- KEYS[2] taskpool:{T}:leases   sorted set, id -> lease deadline (epoch ms)
-- KEYS[3] taskpool:{T}:wake     list, the wake-up token for blocked workers
-- KEYS[4] taskpool:{T}:task:    prefix of the task hashes
-- ARGV[1] the most tasks to take (the worker's free slots)
-- ARGV[2] now, epoch ms
-- ARGV[3] lease deadline, epoch ms
-- ARGV[4] worker id
-- ARGV[5] task id T (for the event messages)
-- ARGV[6] event channel prefix taskpool:{T}:events:
--
-- Returns a flat array: id, attempt, args, id, attempt, args, ...  (empty: nothing waiting).
-- The lease token of each run is "<worker id>/<attempt>".
-- An id whose hash is gone or is not WAITING is dropped from the queue (it cannot run).
local ids = redis.call('RPOP', KEYS[1], ARGV[1])
local out = {}
if not ids then return out end
local task = cjson.encode(ARGV[5])
for _, id in ipairs(ids) do
  local key = KEYS[4] .. id
  if redis.call('HGET', key, 'status') == 'WAITING' then
    local attempt = redis.call('HINCRBY', key, 'attempt', 1)
    redis.call('HSET', key, 'status', 'RUNNING', 'started_at', ARGV[2], 'worker', ARGV[4],
      'lease', ARGV[4] .. '/' .. attempt)
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('PUBLISH', ARGV[6] .. id,
      '{"event":"started","task":' .. task .. ',"id":' .. id .. ',"status":"RUNNING","attempt":' ..
      attempt .. ',"worker":' .. cjson.encode(ARGV[4]) .. ',"at":' .. ARGV[2] .. '}')
    out[#out + 1] = id
    out[#out + 1] = attempt
    out[#out + 1] = redis.call('HGET', key, 'args')
  end
end
-- Pass the baton: more is waiting than this worker could take, so wake another one.
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
