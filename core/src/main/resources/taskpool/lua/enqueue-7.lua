-- enqueue-7: add one or more tasks to the waiting queue of their task, all or nothing: `size`
-- is respected for the whole batch atomically, and an id that is taken refuses the whole batch.
-- Idempotent per request id: a command that Redis ran but whose reply was lost, and that the
-- client re-sends after reconnecting, returns the first result and writes nothing more.
--
-- KEYS[1] taskpool:{T}:def        hash, the published definition (must exist; holds `size`)
-- KEYS[2] taskpool:{T}:seq        string, the per-task id counter (default ids)
-- KEYS[3] taskpool:{T}:waiting    list, ids waiting to run (LPUSH here, RPOP by workers)
-- KEYS[4] taskpool:{T}:wake       list, at most one wake-up token for blocked workers
-- KEYS[5] taskpool:{T}:task:      prefix of the task hashes; the script appends the id
--                                 (same hash tag, so the same cluster slot)
-- KEYS[6] taskpool:{T}:req:<rid>  string, this request's result, kept for ARGV[4] ms
-- KEYS[7] taskpool:{T}:stats      hash of counters (added, succeeded, failed, retried, recovered)
-- ARGV[1] now, epoch ms
-- ARGV[2] task id T (for the event messages)
-- ARGV[3] event channel prefix taskpool:{T}:events:
-- ARGV[4] how long to remember the request id, ms
-- ARGV[5..] pairs: id (or '' to take the next value of the counter), args (a JSON array)
--
-- Returns {id, id, ...} in the order given (also for a repeated request), or:
--   {0}       the queue cannot take them all (`size` would be passed); nothing was written
--   {-1}      the task was never published (unknown task); nothing was written
--   {-2, id}  a task with this id already exists (or the id is given twice); nothing was written
local earlier = redis.call('GET', KEYS[6])
if earlier then return cjson.decode(earlier) end
local size = redis.call('HGET', KEYS[1], 'size')
if not size then return {-1} end
local count = (#ARGV - 4) / 2
if redis.call('LLEN', KEYS[3]) + count > tonumber(size) then return {0} end

-- Explicit ids are checked before anything is written. The counter is moved past the largest
-- explicit id, so that default ids never land on one of them and need no check of their own.
local defaults, highest, seen = 0, 0, {}
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if id == '' then
    defaults = defaults + 1
  else
    if seen[id] or redis.call('EXISTS', KEYS[5] .. id) == 1 then return {-2, id} end
    seen[id] = true
    if tonumber(id) > highest then highest = tonumber(id) end
  end
end
local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
if highest > counter then
  counter = highest
  redis.call('SET', KEYS[2], counter)
end
if defaults > 0 then counter = redis.call('INCRBY', KEYS[2], defaults) - defaults end

local ids, task = {}, cjson.encode(ARGV[2])
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if id == '' then
    counter = counter + 1
    id = string.format('%d', counter)
  end
  ids[#ids + 1] = id
  redis.call('HSET', KEYS[5] .. id,
    'id', id, 'task', ARGV[2], 'status', 'WAITING', 'args', ARGV[i + 1],
    'current', '0', 'total', '0', 'message', '', 'attempt', '0', 'created_at', ARGV[1])
  redis.call('PUBLISH', ARGV[3] .. id,
    '{"event":"added","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","at":' .. ARGV[1] .. '}')
end
if redis.call('LPUSH', KEYS[3], unpack(ids)) == count and redis.call('LLEN', KEYS[4]) == 0 then
  -- The queue was empty, so workers may be blocked: wake one (it passes the token on).
  redis.call('RPUSH', KEYS[4], '1')
end
redis.call('SET', KEYS[6], cjson.encode(ids), 'PX', ARGV[4])
redis.call('HINCRBY', KEYS[7], 'added', count)
return ids
