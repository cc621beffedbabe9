-- enqueue-7: add up to a thousand tasks (one chunk of a batch) to the waiting queue of their
-- task, all or nothing. Idempotent per request id: a request that Redis ran but whose reply was
-- lost, sent again (by Lettuce after a reconnect, or by the caller settling an unknown outcome),
-- returns the first result and writes nothing more.
-- `size` is checked against ARGV[5] tasks: the whole batch for its first chunk, so that a batch
-- is admitted or refused as a whole, and 0 (no check) for the chunks after it.
-- Everything that can fail is checked before the first write (or by it: the `stats.added` counter
-- is written first, through pcall), so a refusal writes nothing. Over
-- `maxmemory`, Redis refuses a script's first write (and lets it continue once it has written),
-- so a new request fails with OOM having written nothing, while a repeated one still returns its
-- record. (No `#!lua` line: it would refuse even that, and Redis 6 cannot parse it.)
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
-- ARGV[5] how many tasks must fit within `size` (0: no check)
-- ARGV[6..] pairs: id (or '' to take the next value of the counter), args (a JSON array)
--
-- Returns {id, id, ...} in the order given (also for a repeated request), or, writing nothing:
--   {0}                          the queue cannot take ARGV[5] more tasks (`size` would be passed)
--   {-1}                         the task was never published (unknown task)
--   {-2, id}                     a task with this given id already exists (or the id is given twice)
--   {-3, key, holds, expected}   a key holds something this script cannot work with
--   {-4, id}                     a default id (from the counter) lands on an existing key
--   {-5, counter, n}             n default ids would pass the last id, 2^53-1
local function wrong(key, holds, expected)
  return {-3, key, holds, expected}
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
    bad = bad or (held == kind and redis.error_reply(value.err)) or wrong(key, 'a ' .. held, 'a ' .. kind)
    return false
  end
  return value
end

-- Keys and ids go to commands in slices, should a caller send a bigger chunk: unpack() of more
-- than a few thousand values overflows Lua's C stack.
local slice = 1000

local earlier = read('string', 'GET', KEYS[6])
if bad then return bad end
if earlier then return cjson.decode(earlier) end
local size = read('hash', 'HGET', KEYS[1], 'size')
local counterText = read('string', 'GET', KEYS[2])
local waiting = read('list', 'LLEN', KEYS[3])
-- The wake list matters only when the queue is empty (workers may be blocked then); under load
-- the queue is not, and this read is saved.
local tokens = waiting == 0 and read('list', 'LLEN', KEYS[4])
if bad then return bad end
if not size then return {-1} end
if not tonumber(size) then return wrong(KEYS[1], "size '" .. size .. "'", 'an integer') end
counterText = counterText or '0'
if not counterText:match('^%d+$') then return wrong(KEYS[2], "'" .. counterText .. "'", 'an integer') end
local counter = tonumber(counterText)
local count = (#ARGV - 5) / 2
local admit = tonumber(ARGV[5])
if admit > 0 and waiting + admit > tonumber(size) then return {0} end

-- Explicit ids are checked first. The counter is moved past the largest explicit id, so that
-- default ids never land on one of them; they are checked too, in case the counter was reset.
-- Each check is one EXISTS over all the keys it covers (a command per chunk, not per task); only
-- when it counts a hit are the keys looked at one by one, to name the first.
local function firstExisting(keys, from, to)
  local found = 0
  for at = from, to, slice do
    found = found + redis.call('EXISTS', unpack(keys, at, math.min(at + slice - 1, to)))
  end
  if found == 0 then return nil end
  for at = from, to do
    if redis.call('EXISTS', keys[at]) == 1 then return at end
  end
end
local defaults, highest, seen, given = 0, 0, {}, {}
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  if id == '' then
    defaults = defaults + 1
  else
    if seen[id] then return {-2, id} end
    seen[id] = true
    given[#given + 1] = id
    if tonumber(id) > highest then highest = tonumber(id) end
  end
end
if #given > 0 then
  local keys = {}
  for n, id in ipairs(given) do keys[n] = KEYS[5] .. id end
  local at = firstExisting(keys, 1, #keys)
  if at then return {-2, given[at]} end
end
local first = math.max(counter, highest)
-- Ids end at 2^53-1. Past 2^53 Lua's numbers stop counting (n + 1 == n), so the loop below would
-- never end and would hold Redis BUSY: a counter at its end (or set past it by hand) refuses.
if defaults > 0 and first > 9007199254740991 - defaults then
  return {-5, first == counter and counterText or string.format('%d', first), defaults}
end
-- The default ids and their keys, made once here for the check and the writes below.
local defaultIds, defaultKeys = {}, {}
if defaults > 0 then
  for n = 1, defaults do
    defaultIds[n] = string.format('%d', first + n)
    defaultKeys[n] = KEYS[5] .. defaultIds[n]
  end
  local at = firstExisting(defaultKeys, 1, defaults)
  if at then return {-4, defaultIds[at]} end
end

-- The writes. The first is the counter of adds, through pcall: a `stats` key that is no hash, or an
-- `added` that is no integer (or would overflow), fails it and is refused here having written
-- nothing, which spares a read of its own. Nothing after it can fail on what is stored.
local bumped = redis.pcall('HINCRBY', KEYS[7], 'added', count)
if type(bumped) == 'table' and bumped.err then
  local held = redis.call('TYPE', KEYS[7]).ok
  if held ~= 'hash' and held ~= 'none' then return wrong(KEYS[7], 'a ' .. held, 'a hash') end
  local added = redis.pcall('HGET', KEYS[7], 'added')
  if type(added) == 'string' and string.find(bumped.err, 'not an integer', 1, true) then
    return wrong(KEYS[7], "added '" .. added .. "'", 'an integer')
  elseif type(added) == 'string' and string.find(bumped.err, 'overflow', 1, true) then
    return wrong(KEYS[7], "added '" .. added .. "'", 'an integer that can grow by ' .. count)
  end
  return redis.error_reply(bumped.err)   -- an ACL refusal, OOM, ...: as Redis said it
end
if highest > counter then redis.call('SET', KEYS[2], string.format('%d', highest)) end
if defaults > 0 then redis.call('INCRBY', KEYS[2], defaults) end
local ids, task, used = {}, cjson.encode(ARGV[2]), 0
for i = 6, #ARGV, 2 do
  local id, key = ARGV[i], nil
  if id == '' then
    used = used + 1
    id, key = defaultIds[used], defaultKeys[used]
  else
    key = KEYS[5] .. id
  end
  ids[#ids + 1] = id
  -- Only what a new task holds: `current`, `total`, `message` and `attempt` are written when they
  -- change (readers take 0, 0, '' and 0 when they are missing), and the task and id are not
  -- written at all (the key names both), which keeps the hash small.
  redis.call('HSET', key, 'status', 'WAITING', 'args', ARGV[i + 1], 'created_at', ARGV[1])
  redis.call('PUBLISH', ARGV[3] .. id,
    '{"event":"added","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","at":' .. ARGV[1] .. '}')
end
for from = 1, #ids, slice do
  redis.call('LPUSH', KEYS[3], unpack(ids, from, math.min(from + slice - 1, #ids)))
end
if waiting == 0 and tokens == 0 then
  -- The queue was empty, so workers may be blocked: wake one (it passes the token on).
  redis.call('RPUSH', KEYS[4], '1')
end
-- The JSON array of the ids as strings, as cjson would write it: ids are digits only, so they need
-- no escaping and no encoder.
redis.call('SET', KEYS[6], #ids == 0 and '[]' or '["' .. table.concat(ids, '","') .. '"]', 'PX', ARGV[4])
return ids
