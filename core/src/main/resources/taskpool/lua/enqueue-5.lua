-- enqueue-5: add one task to the waiting queue of its task, atomically respecting `size`.
--
-- KEYS[1] taskpool:{T}:def      hash, the published definition (must exist; holds `size`)
-- KEYS[2] taskpool:{T}:seq      string, the per-task id counter (default ids)
-- KEYS[3] taskpool:{T}:waiting  list, ids waiting to run (LPUSH here, RPOP by workers)
-- KEYS[4] taskpool:{T}:wake     list, at most one wake-up token for blocked workers
-- KEYS[5] taskpool:{T}:task:    prefix of the task hashes; the script appends the id
--                               (same hash tag, so the same cluster slot)
-- ARGV[1] id, or '' to take the next value of the counter
-- ARGV[2] args, a JSON array
-- ARGV[3] now, epoch ms
-- ARGV[4] task id T (for the event message)
-- ARGV[5] event channel prefix taskpool:{T}:events:
--
-- Returns {id} on success, or {code}:
--    0  the queue is full (`size` tasks already waiting); nothing was written
--   -1  the task was never published (unknown task); nothing was written
--   -2  a task with this id already exists; nothing was written
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
redis.call('LPUSH', KEYS[3], id)
if redis.call('LLEN', KEYS[4]) == 0 then redis.call('RPUSH', KEYS[4], '1') end
redis.call('PUBLISH', ARGV[5] .. id,
  '{"event":"added","task":' .. cjson.encode(ARGV[4]) .. ',"id":' .. id ..
  ',"status":"WAITING","at":' .. ARGV[3] .. '}')
return {id}
