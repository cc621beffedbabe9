#!lua flags=allow-oom
-- promote-due-5: move the delayed tasks that are due (by `now`: Redis' clock, as the caller
-- estimates it) from the delayed set to the queue, at most `limit` per call, and wake one idle
-- worker when the queue was empty. A worker's fetch does the same before it pops (finish-15);
-- this is for when no worker fetches (every slot busy): the recoverer's periodic pass calls it,
-- a call at a time, so that a million due tasks reach the queue (and `stats` counts them as
-- ready) without one long call.
--
-- allow-oom: moving due work to the queue is part of draining a full Redis (see finish-15); it
-- moves ids and adds no memory.
--
-- KEYS[1] taskpool:{T}:delayed    sorted set, id -> due time (epoch ms)
-- KEYS[2] taskpool:{T}:waiting    list, ids waiting to run
-- KEYS[3] taskpool:{T}:wake       list, the wake-up token for blocked workers
-- KEYS[4] taskpool:{T}:task:      prefix of the task hashes (a task's `priority` picks its list)
-- KEYS[5] taskpool:{T}:flow       hash; `priorities` says whether any task had priority 1-3
-- ARGV[1] now, epoch ms
-- ARGV[2] the most ids to move (at most DUE_STEP, 1,000, whatever is asked)
--
-- Returns {moved, next due}: how many moved, and the earliest due time still delayed (epoch ms;
-- <= now: more are due than one call moves), 0 when none is.
-- Errors (nothing changed): "WRONGTYPE <key> holds ..., expected ...".
--@include _checks.lua
--@include _due.lua
local limit = math.min(tonumber(ARGV[2]), DUE_STEP)
local first = redis.pcall('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if type(first) == 'table' and first.err then return readFailed(KEYS[1], 'zset', first) end
if not first[2] or tonumber(first[2]) > tonumber(ARGV[1]) or limit < 1 then
  return {0, first[2] and tonumber(first[2]) or 0}
end
local queued = redis.pcall('LLEN', KEYS[2])
if type(queued) == 'table' and queued.err then return readFailed(KEYS[2], 'list', queued) end
local tokens = redis.pcall('LLEN', KEYS[3])
if type(tokens) == 'table' and tokens.err then return readFailed(KEYS[3], 'list', tokens) end
local prioritized = redis.pcall('HGET', KEYS[5], 'priorities') == '1'
local moved, later = promoteDue(KEYS[1], KEYS[2], ARGV[1], limit, prioritized and KEYS[4])
if moved > 0 and queued == 0 and tokens == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return {moved, later or 0}
