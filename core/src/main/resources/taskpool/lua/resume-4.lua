#!lua flags=allow-oom
-- resume-4: an operator resumes a paused task kind: its `paused` key goes, and when tasks wait an
-- idle worker is woken through the wake list (it passes the token on while more wait). Delayed
-- tasks count: some may have fallen due while the kind was paused, and the woken worker's fetch
-- moves those to the queue and learns when the next one is due.
-- allow-oom: it removes a key and adds at most a token.
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:paused   string, present while paused
-- KEYS[2] taskpool:{T}:waiting  list of waiting ids
-- KEYS[3] taskpool:{T}:wake     wake-up token list
-- KEYS[4] taskpool:{T}:delayed  sorted set, id -> due time of the delayed tasks
-- ARGV[1] control channel taskpool:{T}:control
-- ARGV[2] the control message {"event":"resumed",...}
-- ARGV[3] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
--
-- Returns {DONE}, or {NOT_PAUSED} when the kind is not paused (nothing written).
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ...".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
local problem = wrongType(KEYS[1], 'string') or wrongType(KEYS[3], 'list')
if problem then return problem end
local waiting = redis.pcall('LLEN', KEYS[2])
if type(waiting) == 'table' and waiting.err then return readFailed(KEYS[2], 'list', waiting) end
local delayed = redis.pcall('ZCARD', KEYS[4])
if type(delayed) == 'table' and delayed.err then return readFailed(KEYS[4], 'zset', delayed) end
if redis.call('EXISTS', KEYS[1]) == 0 then return {REPLY.NOT_PAUSED} end
redis.call('DEL', KEYS[1])
-- (the ready tasks of priorities 1-3 wait in KEYS[2] .. ':' .. p)
local levels = redis.call('EXISTS', KEYS[2] .. ':1', KEYS[2] .. ':2', KEYS[2] .. ':3')
if waiting + delayed + levels > 0 and redis.call('LLEN', KEYS[3]) == 0 then redis.call('RPUSH', KEYS[3], '1') end
publishTo(ARGV[3], ARGV[1], nil, ARGV[2])
return {REPLY.DONE}
