-- retry-3: record a failed run and start the next run of the same task in the same worker.
-- Idempotent: sent again after a reconnect, it finds the next run's token and answers DONE.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:stats      hash of counters
-- ARGV[1] id
-- ARGV[2] lease token the caller holds (for the failed run)
-- ARGV[3] lease token of the next run
-- ARGV[4] number of the next run (the new `attempt`)
-- ARGV[5] error text of the failed run
-- ARGV[6] now, epoch ms (start of the next run)
-- ARGV[7] lease deadline of the next run, epoch ms
-- ARGV[8] event channel taskpool:{T}:events:<id>
-- ARGV[9] event message (JSON)
--
-- Returns {1} done, {2} already done (repeated command), {-3} the task does not exist,
--         {-4} the lease is lost; nothing was written on an error
local lease = redis.call('HGET', KEYS[1], 'lease')
if lease == ARGV[3] then return {2} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-3} end
if lease ~= ARGV[2] then return {-4} end
redis.call('HSET', KEYS[1], 'attempt', ARGV[4], 'lease', ARGV[3], 'error', ARGV[5],
  'started_at', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'retried', 1)
redis.call('PUBLISH', ARGV[8], ARGV[9])
return {1}
