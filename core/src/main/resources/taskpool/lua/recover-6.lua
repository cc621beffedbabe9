-- recover-6: put tasks whose lease expired (their worker died or hung) back in the queue,
-- counting the lost run as a failed one; a task out of runs ends in FAILURE.
--
-- KEYS[1] taskpool:{T}:leases   sorted set, id -> lease deadline
-- KEYS[2] taskpool:{T}:waiting  list of waiting ids
-- KEYS[3] taskpool:{T}:wake     wake-up token list
-- KEYS[4] taskpool:{T}:def      the published definition (attempts, keep)
-- KEYS[5] taskpool:{T}:task:    prefix of the task hashes
-- KEYS[6] taskpool:{T}:stats    hash of counters
-- ARGV[1] now, epoch ms
-- ARGV[2] the most leases to handle in one call
-- ARGV[3] task id T (for the event messages)
-- ARGV[4] event channel prefix taskpool:{T}:events:
--
-- Returns {requeued count, failed id, failed id, ...}: the failed ids need their `error` event.
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {0}
if #expired == 0 then return out end
local runs = tonumber(redis.call('HGET', KEYS[4], 'attempts') or '0') + 1
local keep = tonumber(redis.call('HGET', KEYS[4], 'keep') or '86400') * 1000
local task = cjson.encode(ARGV[3])
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local key = KEYS[5] .. id
  local fields = redis.call('HMGET', key, 'status', 'attempt', 'worker')
  if fields[1] == 'RUNNING' then
    local attempt = tonumber(fields[2]) or runs
    local err = 'lease expired: worker ' .. (fields[3] or '?') .. ' stopped during run ' .. attempt
    redis.call('HDEL', key, 'lease')
    redis.call('HINCRBY', KEYS[6], 'recovered', 1)
    if attempt >= runs then
      redis.call('HSET', key, 'status', 'FAILURE', 'error', err, 'finished_at', ARGV[1])
      redis.call('PEXPIRE', key, keep)
      redis.call('HINCRBY', KEYS[6], 'failed', 1)
      redis.call('PUBLISH', ARGV[4] .. id,
        '{"event":"failure","task":' .. task .. ',"id":' .. id .. ',"status":"FAILURE","attempt":' ..
        attempt .. ',"error":' .. cjson.encode(err) .. ',"at":' .. ARGV[1] .. '}')
      out[#out + 1] = id
    else
      redis.call('HSET', key, 'status', 'WAITING', 'error', err)
      redis.call('RPUSH', KEYS[2], id)
      redis.call('PUBLISH', ARGV[4] .. id,
        '{"event":"retry","task":' .. task .. ',"id":' .. id .. ',"status":"WAITING","attempt":' ..
        attempt .. ',"error":' .. cjson.encode(err) .. ',"at":' .. ARGV[1] .. '}')
      out[1] = out[1] + 1
    end
  end
end
if out[1] > 0 and redis.call('LLEN', KEYS[3]) == 0 then redis.call('RPUSH', KEYS[3], '1') end
return out
