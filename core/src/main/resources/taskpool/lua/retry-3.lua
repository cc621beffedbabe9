#!lua flags=allow-oom
-- retry-3: record a failed run and start the next run of the same task in the same worker, under
-- a lease of its own: `lease_seq` grows by one (like a fetch, see finish-12), so the next run's
-- token is "<worker>/<lease_seq + 1>"; `attempt` is the user-visible run number.
-- Idempotent: sent again after a reconnect, it finds the next run's token and answers DONE.
-- allow-oom: retrying queued work is part of draining a full Redis (see finish-12).
-- All or nothing: every key it writes is checked before its first write.
--
-- KEYS[1] taskpool:{T}:task:<id>  the task hash
-- KEYS[2] taskpool:{T}:leases     sorted set of leases
-- KEYS[3] taskpool:{T}:stats      hash of counters
-- ARGV[1] id
-- ARGV[2] lease token the caller holds (for the failed run)
-- ARGV[3] lease token of the next run: the same worker with the next lease number,
--         "<worker>/<lease_seq + 1>" (the caller knows it: its own token ends in lease_seq)
-- ARGV[4] number of the next run (the new `attempt`)
-- ARGV[5] error text of the failed run
-- ARGV[6] now, epoch ms (start of the next run)
-- ARGV[7] lease deadline of the next run, epoch ms
-- ARGV[8] event channel taskpool:{T}:events:<id>
-- ARGV[9] event message (JSON)
--
-- Returns {DONE}, {ALREADY_DONE} (a repeated command), {TASK_MISSING} the task does not exist,
--         {LEASE_LOST} the lease is lost; nothing was written on an error.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ..." and "BADVALUE <key> ...".
--@include _codes.lua
--@include _checks.lua
local state = redis.pcall('HMGET', KEYS[1], 'worker', 'lease_seq', 'status')
if state.err then return readFailed(KEYS[1], 'hash', state) end
-- A run holds its lease while the task is RUNNING under its token, "<worker>/<lease_seq>".
local lease = state[3] == 'RUNNING' and state[1] and state[2] and state[1] .. '/' .. state[2]
if lease == ARGV[3] then return {REPLY.ALREADY_DONE} end
if not state[3] and redis.call('EXISTS', KEYS[1]) == 0 then return {REPLY.TASK_MISSING} end
if lease ~= ARGV[2] then return {REPLY.LEASE_LOST} end
if not string.match(state[2], '^%d+$') then return badValue(KEYS[1], 'lease_seq', state[2], 'an integer') end
local nextLease = string.format('%d', tonumber(state[2]) + 1)
if ARGV[3] ~= state[1] .. '/' .. nextLease then
  return redis.error_reply('BADVALUE the next token ' .. ARGV[3] .. ' is not ' .. state[1] .. '/' .. nextLease ..
    ' (<worker>/<lease_seq + 1>); nothing was changed')
end
if not string.match(ARGV[4], '^[1-9]%d*$') then
  return redis.error_reply("BADVALUE the next run's number '" .. ARGV[4] .. "' is not an integer from 1; nothing was changed")
end
local problem = wrongType(KEYS[2], 'zset')
if problem then return problem end
local retried = redis.pcall('HGET', KEYS[3], 'retried')
if type(retried) == 'table' and retried.err then return readFailed(KEYS[3], 'hash', retried) end
if retried and not string.match(retried, '^-?%d+$') then
  return redis.error_reply('BADVALUE ' .. KEYS[3] .. " field retried holds '" .. retried ..
    "', expected an integer; nothing was changed")
end
redis.call('HSET', KEYS[1], 'attempt', ARGV[4], 'lease_seq', nextLease, 'error', ARGV[5], 'started_at', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'retried', 1)
redis.call('PUBLISH', ARGV[8], ARGV[9])
return {REPLY.DONE}
