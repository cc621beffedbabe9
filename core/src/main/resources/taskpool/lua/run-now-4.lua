#!lua flags=allow-oom
-- run-now-4: an operator runs a delayed task now, before its due time: its id leaves `delayed` for
-- the right end of the queue, the end workers take from, so it is the next task of its kind to
-- start (unless the kind is paused: then the first once it is resumed). Its `due_at` becomes now:
-- it fell due by hand, and the listings and the dashboard stop showing it as delayed. An idle
-- worker is woken through the wake list.
-- Refused, writing nothing, for a task that is not waiting in `delayed`: unknown, RUNNING,
-- finished, or WAITING in the queue already (ready).
-- allow-oom: it moves an id from one key to another and rewrites a number; running work is what
-- drains a full Redis.
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:delayed    sorted set, id -> due time of the delayed tasks
-- KEYS[3] taskpool:{T}:waiting    list of waiting ids (taken from the right)
-- KEYS[4] taskpool:{T}:wake       wake-up token list
-- ARGV[1] id
-- ARGV[2] now, epoch ms
-- ARGV[3] event channel taskpool:{T}:events:<id>
-- ARGV[4] the event message {"event":"promoted",...}
-- ARGV[5] events: 'heard', 'all', 'sharded' or 'sharded-all' (_events.lua, EventMode)
-- ARGV[6] the kind's events channel taskpool:{T}:events (a Cluster's events go there too)
--
-- Returns {DONE}, or, writing nothing: {TASK_MISSING} the task does not exist
-- (never added, or expired), {WRONG_STATUS, status} it is not WAITING, {WRONG_STATUS, 'WAITING',
-- 'ready'} it waits in the queue already.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ...".
--@include _codes.lua
--@include _checks.lua
--@include _events.lua
--@include _priority.lua
local fields = redis.pcall('HMGET', KEYS[1], 'status', 'priority')
if fields.err then return readFailed(KEYS[1], 'hash', fields) end
local status = fields[1]
if not status then return {REPLY.TASK_MISSING} end
if status ~= 'WAITING' then return {REPLY.WRONG_STATUS, status} end
local queue = queueOf(KEYS[3], fields[2])   -- (the front of its priority's list)
local problem = wrongType(queue, 'list') or wrongType(KEYS[4], 'list')
if problem then return problem end
-- ZREM is the membership test (the operator's ACL rules need no ZSCORE for it): it writes only when
-- the id is there, and nothing after it can be refused.
local removed = redis.pcall('ZREM', KEYS[2], ARGV[1])
if type(removed) == 'table' and removed.err then return readFailed(KEYS[2], 'zset', removed) end
if removed == 0 then return {REPLY.WRONG_STATUS, 'WAITING', 'ready'} end

redis.call('RPUSH', queue, ARGV[1])
redis.call('HSET', KEYS[1], 'due_at', ARGV[2])
if redis.call('LLEN', KEYS[4]) == 0 then redis.call('RPUSH', KEYS[4], '1') end
publishTo(ARGV[5], ARGV[3], ARGV[6], ARGV[4])
return {REPLY.DONE}
