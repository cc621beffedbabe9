-- enqueue-7: add one task to the waiting queue of its task, atomically respecting `size`.
-- Idempotent per request id: a command that Redis ran but whose reply was lost, and that the
-- client re-sends after reconnecting, returns the first result and writes nothing more.
--
-- KEYS[1] taskpool:{T}:def        hash, the published definition (must exist; holds `size`)
-- KEYS[2] taskpool:{T}:seq        string, the per-task id counter (default ids)
-- KEYS[3] taskpool:{T}:waiting    list, ids waiting to run (LPUSH here, RPOP by workers)
-- KEYS[4] taskpool:{T}:wake       list, at most one wake-up token for blocked workers
-- KEYS[5] taskpool:{T}:task:      prefix of the task hashes; the script appends the id
--                                 (same hash tag, so the same cluster slot)
-- KEYS[6] taskpool:{T}:req:<rid>  string, this request's result, kept for ARGV[6] ms
-- KEYS[7] taskpool:{T}:stats      hash of counters (added, succeeded, failed, retried, recovered)
-- ARGV[1] id, or '' to take the next value of the counter
-- ARGV[2] args, a JSON array
-- ARGV[3] now, epoch ms
-- ARGV[4] task id T (for the event message)
-- ARGV[5] event channel prefix taskpool:{T}:events:
-- ARGV[6] how long to remember the request id, ms
--
-- Returns {id} on success (also for a repeated request), or {code}:
--    0  the queue is full (`size` tasks already waiting); nothing was written
--   -1  the task was never published (unknown task); nothing was written
--   -2  a task with this id already exists; nothing was written
local earlier = redis.call('GET', KEYS[6])
if earlier then return {earlier} end
local size = redis.call('HGET', KEYS[1], 'size')
if not size then return {-1} end
if redis.call('LLEN', KEYS[3]) >= tonumber(size) then return {0} end

local id = ARGV[1]
if id == '' then
  -- Skip past ids that an id generator of the app's own may already have taken.
  repeat
    id = tostring(redis.call('INCR', KEYS[2]))
  until redis.call('EXISTS', KEYS[5] .. id) == 0
elseif redis.call('EXISTS', KEYS[5] .. id) == 1 then
  return {-2}
end

redis.call('HSET', KEYS[5] .. id,
  'id', id, 'task', ARGV[4], 'status', 'WAITING', 'args', ARGV[2],
  'current', 0, 'total', 0, 'message', '', 'attempt', 0, 'created_at', ARGV[3])
if redis.call('LPUSH', KEYS[3], id) == 1 and redis.call('LLEN', KEYS[4]) == 0 then
  -- The queue was empty, so workers may be blocked: wake one (it passes the token on).
  redis.call('RPUSH', KEYS[4], '1')
end
redis.call('SET', KEYS[6], id, 'PX', ARGV[6])
redis.call('HINCRBY', KEYS[7], 'added', 1)
redis.call('PUBLISH', ARGV[5] .. id,
  '{"event":"added","task":' .. cjson.encode(ARGV[4]) .. ',"id":' .. id ..
  ',"status":"WAITING","at":' .. ARGV[3] .. '}')
return {id}
