-- complete-2: end a running task in SUCCESS or FAILURE, if the caller still holds its lease.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- ARGV[1] id
-- ARGV[2] lease token the caller holds
-- ARGV[3] final status: SUCCESS or FAILURE
-- ARGV[4] response (JSON) for SUCCESS, error text for FAILURE
-- ARGV[5] now, epoch ms
-- ARGV[6] retention in ms: the finished task expires after it
-- ARGV[7] event channel taskpool:{T}:events:<id>
-- ARGV[8] event message (JSON)
--
-- Returns {1} done, {-3} the task does not exist,
--         {-4} the lease is not the caller's any more (recovered elsewhere); nothing was written
if redis.call('EXISTS', KEYS[1]) == 0 then return {-3} end
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[2] then return {-4} end
local field = 'response'
if ARGV[3] == 'FAILURE' then field = 'error' end
redis.call('HSET', KEYS[1], 'status', ARGV[3], field, ARGV[4], 'finished_at', ARGV[5])
redis.call('HDEL', KEYS[1], 'lease')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return {1}
