#!lua flags=allow-oom
-- release-4: hand a running task back to the queue (graceful stop); the interrupted run does
-- not count as an attempt.
-- allow-oom: a worker stopping while Redis is full must still hand its tasks back (see finish-15).
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:waiting    list of waiting ids
-- KEYS[4] taskpool:{T}:wake       wake-up token list
-- ARGV[1] id
-- ARGV[2] lease token the caller holds
-- ARGV[3] event channel taskpool:{T}:events:<id>
-- ARGV[4] event message (JSON)
-- ARGV[5] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[6] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE}, {TASK_MISSING} the task does not exist, {LEASE_LOST} the lease is lost (or it was released
-- already: a repeated command finds no lease); nothing was written on an error.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
--@include _priority.lua
local state = redis.pcall('HMGET', KEYS[1], 'worker', 'lease_seq', 'status', 'attempt', 'priority')
if state.err then return readFailed(KEYS[1], 'hash', state) end
-- A run holds its lease while the task is RUNNING under its token, "<worker>/<lease_seq>". The
-- handed-back run gives its attempt back; `lease_seq` stays: the next run gets a token of its own.
local lease = state[3] == 'RUNNING' and state[1] and state[2] and state[1] .. '/' .. state[2]
if not state[3] and redis.call('EXISTS', KEYS[1]) == 0 then return {REPLY.TASK_MISSING} end
if lease ~= ARGV[2] then return {REPLY.LEASE_LOST} end
if not string.match(state[4] or '0', '^%d+$') then
  return redis.error_reply('BADVALUE ' .. KEYS[1] .. " field attempt holds '" .. state[4] ..
    "', expected an integer; nothing was changed")
end
local queue = queueOf(KEYS[3], state[5])   -- (its priority's list)
local problem = wrongType(KEYS[2], 'zset') or wrongType(queue, 'list') or wrongType(KEYS[4], 'list')
if problem then return problem end
redis.call('HSET', KEYS[1], 'status', 'WAITING')
redis.call('HINCRBY', KEYS[1], 'attempt', -1)
redis.call('HDEL', KEYS[1], 'worker', 'started_at')
redis.call('ZREM', KEYS[2], ARGV[1])
-- The right end is where workers pop: a handed-back task runs next.
redis.call('RPUSH', queue, ARGV[1])
if redis.call('LLEN', KEYS[4]) == 0 then redis.call('RPUSH', KEYS[4], '1') end
publishTo(ARGV[5], ARGV[3], ARGV[6], ARGV[4])
return {REPLY.DONE}
