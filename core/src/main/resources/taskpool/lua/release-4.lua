-- release-4: hand a running task back to the queue (graceful stop); the interrupted run does
-- not count as an attempt.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:waiting    list of waiting ids
-- KEYS[4] taskpool:{T}:wake       wake-up token list
-- ARGV[1] id
-- ARGV[2] lease token the caller holds
-- ARGV[3] event channel taskpool:{T}:events:<id>
-- ARGV[4] event message (JSON)
--
-- Returns {1} done, {-3} the task does not exist, {-4} the lease is lost (or it was released
-- already: a repeated command finds no lease); nothing was written on an error
local lease = redis.call('HGET', KEYS[1], 'lease')
if not lease and redis.call('EXISTS', KEYS[1]) == 0 then return {-3} end
if lease ~= ARGV[2] then return {-4} end
redis.call('HSET', KEYS[1], 'status', 'WAITING')
redis.call('HINCRBY', KEYS[1], 'attempt', -1)
redis.call('HDEL', KEYS[1], 'lease', 'worker', 'started_at')
redis.call('ZREM', KEYS[2], ARGV[1])
-- The right end is where workers pop: a handed-back task runs next.
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LLEN', KEYS[4]) == 0 then redis.call('RPUSH', KEYS[4], '1') end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1}
