-- complete-3: end a running task in SUCCESS or FAILURE, if the caller still holds its lease.
-- Idempotent: the same completion sent again (after a reconnect) answers DONE and writes nothing.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:stats      hash of counters
-- ARGV[1] id
-- ARGV[2] lease token the caller holds
-- ARGV[3] final status: SUCCESS or FAILURE
-- ARGV[4] response (JSON) for SUCCESS, error text for FAILURE
-- ARGV[5] now, epoch ms
-- ARGV[6] retention in ms: the finished task expires after it
-- ARGV[7] event channel taskpool:{T}:events:<id>
-- ARGV[8] event message (JSON)
--
-- Returns {1} done, {2} already done by this same run (a repeated command),
--         {-3} the task does not exist,
--         {-4} the lease is not the caller's any more (recovered elsewhere); nothing was written
local state = redis.call('HMGET', KEYS[1], 'lease', 'done_by', 'status')
if not state[3] then return {-3} end
if state[2] == ARGV[2] then return {2} end
if state[1] ~= ARGV[2] then return {-4} end
local field, counter = 'response', 'succeeded'
if ARGV[3] == 'FAILURE' then field, counter = 'error', 'failed' end
redis.call('HSET', KEYS[1], 'status', ARGV[3], field, ARGV[4], 'finished_at', ARGV[5], 'done_by', ARGV[2])
redis.call('HDEL', KEYS[1], 'lease')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HINCRBY', KEYS[3], counter, 1)
redis.call('PUBLISH', ARGV[7], ARGV[8])
return {1}
